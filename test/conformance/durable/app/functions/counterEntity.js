const { app } = require('@azure/functions');
const df = require('durable-functions');

const entityName = 'counterEntity';

df.app.entity(entityName, (context) => {
  const currentValue = context.df.getState(() => 0);
  switch (context.df.operationName) {
    case 'add':
      context.df.setState(currentValue + context.df.getInput());
      break;
    case 'reset':
      context.df.setState(0);
      break;
    case 'get':
      context.df.return(currentValue);
      break;
    case 'addAndForward': {
      // An entity signalling another entity.
      const { amount, to } = context.df.getInput();
      context.df.setState(currentValue + amount);
      context.df.signalEntity(new df.EntityId(entityName, to), 'add', amount);
      break;
    }
    case 'delete':
      context.df.destructOnExit();
      break;
  }
});

// Signals and calls from an orchestration: signal twice, then call for the value.
df.app.orchestration('counterOrchestration', function* (context) {
  const entityId = new df.EntityId(entityName, context.df.getInput());
  context.df.signalEntity(entityId, 'add', 1);
  context.df.signalEntity(entityId, 'add', 2);
  yield context.df.callEntity(entityId, 'add', 10);
  const value = yield context.df.callEntity(entityId, 'get');
  return value;
});

// The client side: signal and read from an HTTP function.
app.http('counterSignal', {
  route: 'counters/{key}/{op}',
  methods: ['POST'],
  extraInputs: [df.input.durableClient()],
  handler: async (request, context) => {
    const client = df.getClient(context);
    const body = await request.text();
    await client.signalEntity(new df.EntityId(entityName, request.params.key), request.params.op, body ? JSON.parse(body) : undefined);
    return { status: 202 };
  },
});

app.http('counterRead', {
  route: 'counters/{key}',
  methods: ['GET'],
  extraInputs: [df.input.durableClient()],
  handler: async (request, context) => {
    const client = df.getClient(context);
    const state = await client.readEntityState(new df.EntityId(entityName, request.params.key));
    return { jsonBody: state };
  },
});
