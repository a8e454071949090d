const df = require('durable-functions');

const helloActivityName = 'sayHello';

df.app.orchestration('helloSequence', function* (context) {
  const outputs = [];
  outputs.push(yield context.df.callActivity(helloActivityName, 'Tokyo'));
  outputs.push(yield context.df.callActivity(helloActivityName, 'Seattle'));
  outputs.push(yield context.df.callActivity(helloActivityName, 'Cairo'));
  return outputs;
});

df.app.activity(helloActivityName, {
  handler: (input) => `Hello, ${input}`,
});
