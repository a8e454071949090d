import { app } from '@azure/functions';
import { closeServices } from '../src/app/services';

/** When the host stops the app, close the adapters (ledger connection, embedded peer). */
app.hook.appTerminate(async () => {
  await closeServices();
});
