const df = require('durable-functions');

// Durable HTTP: the request runs outside the orchestrator; a 202 with Location is polled.
df.app.orchestration('callHttpPolling', function* (context) {
  const url = context.df.getInput();
  const res = yield context.df.callHttp({ method: 'POST', url, body: { hello: 'world' } });
  return { statusCode: res.statusCode, content: JSON.parse(res.content) };
});
