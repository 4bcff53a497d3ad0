/**
 * docs/cli-json.schema.json compiled once per test file: `documentedAs(command, doc)` is an
 * expectation that the document fits the command's shape, naming the errors when it does not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';

const SCHEMA = JSON.parse(readFileSync(join(__dirname, '../../../docs/cli-json.schema.json'), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ strict: true, allErrors: true }).addSchema(SCHEMA);

export function documentedAs(command: string, doc: unknown): void {
  const validate = ajv.getSchema(`${SCHEMA.$id}#/$defs/${command}`);
  if (!validate) throw new Error(`docs/cli-json.schema.json has no $defs/${command}`);
  expect({ command, valid: validate(doc), errors: validate.errors ?? null }).toEqual({ command, valid: true, errors: null });
}
