// A client generated from openapi.yaml, used the way a TypeScript program would: store a network,
// run a forward pass, handle a 404 and a 422, and predict words with a hand-made language network.
// Prints one JSON line; exits non-zero on any surprise.
import { createClient } from './generated/client';
import { deleteNetwork, forwardNetwork, getNetwork, predictNextWords, putNetwork } from './generated/sdk.gen';
import type { ForwardResult, NetworkDefinition, Prediction, Problem } from './generated/types.gen';

declare const process: { env: Record<string, string | undefined>; exitCode?: number };

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function same(actual: unknown, expected: unknown, what: string): void {
  check(JSON.stringify(actual) === JSON.stringify(expected), `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// Errors are problem+json from the service, or text/html from the HTTP server in front of it.
function problemOf(error: string | Problem): Problem {
  check(typeof error !== 'string', `expected application/problem+json, got text: ${String(error).slice(0, 200)}`);
  return error;
}

const XOR: NetworkDefinition = {
  description: 'XOR from two ReLU neurons',
  layers: [
    { weights: [[1, 1], [1, 1]], biases: [0, -1], activation: 'relu' },
    { weights: [[1, -2]], biases: [0], activation: 'identity' },
  ],
};

// Five words, one number each, context size 1: the logits after a word with embedding x are
// x · [0, 0, 1, 2, -1], so after "a" (x = 1) the most probable next word is "a" itself.
const TINY: NetworkDefinition = {
  description: 'five words, one number per word',
  vocabulary: ['<pad>', '<unk>', '</s>', 'a', 'b'],
  embeddings: [[0], [0], [0], [1], [2]],
  context_size: 1,
  layers: [{ weights: [[0], [0], [1], [2], [-1]], biases: [0, 0, 0, 0, 0], activation: 'identity' }],
};

async function main(): Promise<void> {
  const baseUrl = process.env.NEURONHUB_URL;
  check(baseUrl !== undefined, 'set NEURONHUB_URL');
  const client = createClient({ baseUrl });
  const name = `ts-xor-${Date.now()}`;

  const created = await putNetwork({ client, path: { name }, body: XOR, headers: { 'If-None-Match': '*' } });
  check(created.data !== undefined, `putNetwork failed: ${created.response.status}`);
  same(created.response.status, 201, 'status of a create');
  same(created.response.headers.get('ETag'), '"1"', 'ETag');
  same([created.data.revision, created.data.input_size, created.data.output_size, created.data.layer_sizes], [1, 2, 1, [2, 2, 1]], 'stored network');

  const forward = await forwardNetwork({ client, path: { name }, body: { inputs: [[0, 0], [0, 1], [1, 0], [1, 1]] } });
  check(forward.data !== undefined, `forwardNetwork failed: ${forward.response.status}`);
  const result: ForwardResult = forward.data;
  same(result.outputs, [[0], [1], [1], [0]], 'XOR truth table');

  const traced = await forwardNetwork({ client, path: { name }, body: { inputs: [1, 1], trace: true } });
  check(traced.data?.trace !== undefined, 'trace requested but missing');
  same(traced.data.outputs, [0], 'XOR(1, 1)');
  same(traced.data.trace.map((layer) => layer.activations), [[2, 1], [0]], 'layer activations');

  const missing = await getNetwork({ client, path: { name: 'no-such-network' } });
  check(missing.data === undefined && missing.error !== undefined, 'a missing network was found');
  const notFound = problemOf(missing.error);
  same([missing.response.status, notFound.type], [404, 'urn:neuronhub:problem:not-found'], 'missing network');

  const ragged: NetworkDefinition = { layers: [{ weights: [[1, 2], [3]], activation: 'relu' }] };
  const invalid = await putNetwork({ client, path: { name: 'ts-ragged' }, body: ragged });
  check(invalid.error !== undefined, 'a ragged weight matrix was accepted');
  const problem = problemOf(invalid.error);
  same(invalid.response.status, 422, 'status of an invalid network');
  same(problem.errors?.['layers[0].weights[1]'], ['expected 2 values (as in row 0), got 1'], 'field error');

  const deleted = await deleteNetwork({ client, path: { name }, headers: { 'If-Match': '"1"' } });
  same(deleted.response.status, 204, 'status of a delete');

  const words = `ts-words-${Date.now()}`;
  const language = await putNetwork({ client, path: { name: words }, body: TINY });
  check(language.data !== undefined, `putNetwork of a language network failed: ${language.response.status}`);
  same([language.data.vocabulary_size, language.data.context_size, language.data.parameter_count], [5, 1, 15], 'stored language network');
  const predicted = await predictNextWords({ client, path: { name: words }, body: { context: 'a', top_k: 3 } });
  check(predicted.data !== undefined, `predictNextWords failed: ${predicted.response.status}`);
  const prediction: Prediction = predicted.data;
  same(prediction.context.tokens, ['a'], 'the context as read');
  same(prediction.words.map((word) => word.word), ['a', '</s>', '<pad>'], 'the most probable words after "a"');
  const top = prediction.words[0];
  check(top !== undefined && top.probability > 0.5 && top.log_probability < 0, `top word: ${JSON.stringify(top)}`);
  const notWords = await predictNextWords({ client, path: { name: 'ts-ragged' }, body: { context: 'a' } });
  same(notWords.response.status, 404, 'predict on a network that was never stored');
  await deleteNetwork({ client, path: { name: words } });

  console.log(JSON.stringify({ outputs: result.outputs, notFound: notFound.detail, invalid: Object.keys(problem.errors ?? {}), topWord: top.word }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
