import { z } from 'zod';
import { authRoute } from './http/authRoute';
import { datasetIdParam, listQuery, registerBody, treeQuery, updateBody } from '../src/app/datasetRequests';

/** The dataset routes: register, list, read, update, delete (crypto-shred), tree, history. */
const idParams = z.object({ id: datasetIdParam });

authRoute('datasetsRegister', {
  methods: ['POST'],
  route: 'datasets',
  body: registerBody,
  handler: async ({ services, caller, body }) => {
    const dataset = await services.datasets.register(caller, body);
    return { status: 201, body: dataset, headers: { location: `/api/datasets/${dataset.id}` } };
  },
});

authRoute('datasetsList', {
  methods: ['GET'],
  route: 'datasets',
  query: listQuery,
  handler: async ({ services, caller, query }) => ({
    body: await services.datasets.list(caller, {
      pageSize: query.limit,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      ...(query.owner === undefined ? {} : { owner: query.owner }),
      ...(query.state === undefined ? {} : { state: query.state }),
    }),
  }),
});

authRoute('datasetsGet', {
  methods: ['GET'],
  route: 'datasets/{id}',
  params: idParams,
  handler: async ({ services, caller, params }) => ({ body: await services.datasets.get(caller, params.id) }),
});

authRoute('datasetsUpdate', {
  methods: ['PATCH'],
  route: 'datasets/{id}',
  params: idParams,
  body: updateBody,
  handler: async ({ services, caller, params, body }) => ({ body: await services.datasets.update(caller, params.id, body) }),
});

authRoute('datasetsDelete', {
  methods: ['DELETE'],
  route: 'datasets/{id}',
  params: idParams,
  handler: async ({ services, caller, params }) => {
    const { dataset, cryptoShred } = await services.datasets.delete(caller, params.id);
    return { body: { ...dataset, cryptoShred } };
  },
});

authRoute('datasetsTree', {
  methods: ['GET'],
  route: 'datasets/{id}/tree',
  params: idParams,
  query: treeQuery,
  handler: async ({ services, caller, params, query }) => ({
    body: await services.datasets.tree(caller, params.id, { limit: query.limit, cursor: query.cursor }),
  }),
});

authRoute('datasetsHistory', {
  methods: ['GET'],
  route: 'datasets/{id}/history',
  params: idParams,
  handler: async ({ services, caller, params }) => ({
    body: { datasetId: params.id, items: await services.datasets.history(caller, params.id) },
  }),
});
