const { app } = require('@azure/functions');
const df = require('durable-functions');

// The samples' generic starter: POST /api/orchestrators/{orchestratorName} with the input as body.
app.http('durableOrchestrationStart', {
  route: 'orchestrators/{orchestratorName}',
  extraInputs: [df.input.durableClient()],
  handler: async (request, context) => {
    const client = df.getClient(context);
    const body = await request.text();
    const instanceId = await client.startNew(request.params.orchestratorName, { input: body ? JSON.parse(body) : undefined });
    context.log(`Started orchestration with ID = '${instanceId}'.`);
    return client.createCheckStatusResponse(request, instanceId);
  },
});

// Starts with a caller-chosen instance id: the client must refuse ids Azure refuses.
app.http('durableOrchestrationStartWithId', {
  route: 'orchestrators/{orchestratorName}/ids/{instanceId}',
  extraInputs: [df.input.durableClient()],
  handler: async (request, context) => {
    const client = df.getClient(context);
    try {
      const instanceId = await client.startNew(request.params.orchestratorName, { instanceId: request.query.get('id') ?? request.params.instanceId });
      return client.createCheckStatusResponse(request, instanceId);
    } catch (err) {
      return { status: 400, jsonBody: { error: String(err && err.message) } };
    }
  },
});
