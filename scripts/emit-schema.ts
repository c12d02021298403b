// Writes schemas/tenant-migration.schema.json from the zod schema (run by the build; checked by a test).
import fs from 'node:fs';
import path from 'node:path';
import { specJsonSchema } from '../src/engine/migration-spec/json-schema';

const file = path.join(__dirname, '..', 'schemas', 'tenant-migration.schema.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, JSON.stringify(specJsonSchema(), null, 2) + '\n');
