import { routes } from '../src/api/routes';
import { authRoute } from './http/authRoute';

/** The dataset routes: register, list, read, update, delete (crypto-shred), tree, history.
 * Paths and schemas come from the route table (src/api/routes.ts), which the OpenAPI
 * document is generated from. */

authRoute(routes.datasetsRegister, async ({ services, caller, body }) => {
  const dataset = await services.datasets.register(caller, body);
  return { status: 201, body: dataset, headers: { location: `/api/datasets/${dataset.id}` } };
});

authRoute(routes.datasetsList, async ({ services, caller, query }) => ({
  body: await services.datasets.list(caller, {
    pageSize: query.limit,
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    ...(query.owner === undefined ? {} : { owner: query.owner }),
    ...(query.state === undefined ? {} : { state: query.state }),
  }),
}));

authRoute(routes.datasetsGet, async ({ services, caller, params }) => ({ body: await services.datasets.get(caller, params.id) }));

authRoute(routes.datasetsUpdate, async ({ services, caller, params, body }) => ({ body: await services.datasets.update(caller, params.id, body) }));

authRoute(routes.datasetsDelete, async ({ services, caller, params }) => {
  const { dataset, cryptoShred } = await services.datasets.delete(caller, params.id);
  return { body: { ...dataset, cryptoShred } };
});

authRoute(routes.datasetsTree, async ({ services, caller, params, query }) => ({
  body: await services.datasets.tree(caller, params.id, { limit: query.limit, cursor: query.cursor }),
}));

authRoute(routes.datasetsPushFiles, async ({ services, caller, params, body }) => ({
  body: await services.datasets.pushFiles(caller, params.id, body),
}));

authRoute(routes.datasetsHistory, async ({ services, caller, params }) => ({
  body: { datasetId: params.id, items: await services.datasets.history(caller, params.id) },
}));
