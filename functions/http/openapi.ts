import { buildOpenApiDocument, type OpenApiDocument } from '../../src/api/openapi';
import { routes, routeTable } from '../../src/api/routes';
import { appVersion } from './appVersion';
import { jsonRoute } from './jsonRoute';

/** GET /api/openapi.json: the API's OpenAPI 3.1 document, anonymous like health. Built on
 * first request (the conversion costs a few ms that start-up should not pay). */
let document: OpenApiDocument | undefined;

const r = routes.openapi;
jsonRoute(r.name, {
  methods: [r.method],
  route: r.path,
  query: r.query,
  handler: () => {
    document ??= buildOpenApiDocument(routeTable, { version: appVersion });
    return { body: document, headers: { 'cache-control': 'public, max-age=300' } };
  },
});
