import { z } from 'zod';
import { configSchema } from '../../config/schema';

/**
 * `cold-launcher schema`: the JSON Schema of launchers.json, for editors. Save it beside
 * the file and point `"$schema"` at it to get completion and checks while typing.
 */
export async function schemaCommand(out: (line: string) => void): Promise<number> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
  out(JSON.stringify({ ...schema, title: 'ezged-cold-launcher launcher definitions' }, null, 2));
  return 0;
}
