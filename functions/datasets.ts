import { routes } from '../src/api/routes';
import { authRoute } from './http/authRoute';

/** The dataset routes: register, list, read, update, delete (crypto-shred), tree, history.
 * Paths and schemas come from the route table (src/api/routes.ts), which the OpenAPI
 * document is generated from. */

const register = routes.datasetsRegister;
authRoute(register.name, {
  methods: [register.method],
  route: register.path,
  body: register.body,
  handler: async ({ services, caller, body }) => {
    const dataset = await services.datasets.register(caller, body);
    return { status: 201, body: dataset, headers: { location: `/api/datasets/${dataset.id}` } };
  },
});

const list = routes.datasetsList;
authRoute(list.name, {
  methods: [list.method],
  route: list.path,
  query: list.query,
  handler: async ({ services, caller, query }) => ({
    body: await services.datasets.list(caller, {
      pageSize: query.limit,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      ...(query.owner === undefined ? {} : { owner: query.owner }),
      ...(query.state === undefined ? {} : { state: query.state }),
    }),
  }),
});

const get = routes.datasetsGet;
authRoute(get.name, {
  methods: [get.method],
  route: get.path,
  params: get.params,
  handler: async ({ services, caller, params }) => ({ body: await services.datasets.get(caller, params.id) }),
});

const update = routes.datasetsUpdate;
authRoute(update.name, {
  methods: [update.method],
  route: update.path,
  params: update.params,
  body: update.body,
  handler: async ({ services, caller, params, body }) => ({ body: await services.datasets.update(caller, params.id, body) }),
});

const remove = routes.datasetsDelete;
authRoute(remove.name, {
  methods: [remove.method],
  route: remove.path,
  params: remove.params,
  handler: async ({ services, caller, params }) => {
    const { dataset, cryptoShred } = await services.datasets.delete(caller, params.id);
    return { body: { ...dataset, cryptoShred } };
  },
});

const tree = routes.datasetsTree;
authRoute(tree.name, {
  methods: [tree.method],
  route: tree.path,
  params: tree.params,
  query: tree.query,
  handler: async ({ services, caller, params, query }) => ({
    body: await services.datasets.tree(caller, params.id, { limit: query.limit, cursor: query.cursor }),
  }),
});

const history = routes.datasetsHistory;
authRoute(history.name, {
  methods: [history.method],
  route: history.path,
  params: history.params,
  handler: async ({ services, caller, params }) => ({
    body: { datasetId: params.id, items: await services.datasets.history(caller, params.id) },
  }),
});
