const { z } = require('zod');
const reg = z.registry();
const Identity = z.object({ user: z.string(), org: z.string() });
reg.add(Identity, { id: 'Identity' });
const Lease = z.object({ holder: Identity, expiresAt: z.iso.datetime(), n: z.coerce.number().default(3), x: z.string().transform(s=>s.length).optional() });
reg.add(Lease, { id: 'Lease' });
console.log(JSON.stringify(z.toJSONSchema(reg, { uri: (id) => `#/components/schemas/${id}`, io: 'output', unrepresentable: 'any' }), null, 1));
console.log(JSON.stringify(z.toJSONSchema(Lease, { io: 'input', unrepresentable: 'any' , metadata: reg, uri: (id)=>`#/c/${id}`}), null, 0));
