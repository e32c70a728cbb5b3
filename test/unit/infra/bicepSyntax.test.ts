import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bicepFiles, loadBicep, parseSource, rel, syntaxProblems } from './bicepModel';

// tree-sitter-bicep catches syntax errors only: not types, names or API versions.
test('every .bicep file under infra/ parses without an ERROR or MISSING node', () => {
  const files = bicepFiles();
  assert.ok(files.length >= 8, `expected main.bicep and its modules, found ${files.map(rel).join(', ')}`);
  const problems = files.flatMap((f) => syntaxProblems(loadBicep(f).root).map((p) => `${rel(f)}:${p}`));
  assert.deepEqual(problems, []);
});

test('the syntax check itself catches broken Bicep', () => {
  const broken = {
    'unclosed object': "resource a 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'a'\n",
    'misspelt keyword': 'parm x string\n',
    'unclosed string': "param x string = 'abc\n",
    'property without colon': 'var a = {\n  b 1\n}\n',
  };
  for (const [what, source] of Object.entries(broken)) {
    assert.notDeepEqual(syntaxProblems(parseSource(source)), [], `${what} was not reported`);
  }
  assert.deepEqual(syntaxProblems(parseSource("@minLength(1)\nparam x string = 'a'\n")), []);
});
