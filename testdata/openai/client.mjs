// Drives an OpenAI-compatible server with the official openai JavaScript client (no
// Prefer code) and prints what it saw as one JSON object, for
// TestOpenAIClientInterop (server/cli/interop_openai_test.go).
//
//   node client.mjs BASE_URL API_KEY
import OpenAI from "openai";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });
const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id);

const ask = {
  model: "ref-lm",
  messages: [
    { role: "system", content: "Answer briefly." },
    { role: "user", content: "What is the capital of Italy?" },
  ],
  n: 2,
  seed: 42,
  temperature: 0.9,
  top_p: 0.95,
  max_tokens: 30,
  logprobs: true,
  top_logprobs: 2,
};
const chat = await client.chat.completions.create(ask);
const again = await client.chat.completions.create(ask);
out.chat = {
  object: chat.object,
  texts: chat.choices.map((c) => c.message.content),
  roles: chat.choices.map((c) => c.message.role),
  finish: chat.choices.map((c) => c.finish_reason),
  logprob_tokens: chat.choices.map((c) => c.logprobs.content.length),
  logprobs_negative: chat.choices.every((c) => c.logprobs.content.every((t) => t.logprob <= 0 && t.top_logprobs.length === 2)),
  usage: chat.usage,
  fingerprint: chat.system_fingerprint,
  same_seed_same_text: JSON.stringify(again.choices.map((c) => c.message.content)) === JSON.stringify(chat.choices.map((c) => c.message.content)),
};

// Streaming through the client's own SSE parser.
const stream = await client.chat.completions.create({ ...ask, logprobs: false, top_logprobs: undefined, stream: true, stream_options: { include_usage: true } });
const streamed = ["", ""];
const streamFinish = [null, null];
let streamUsage = null;
let chunks = 0;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) streamUsage = chunk.usage;
  for (const c of chunk.choices) {
    streamed[c.index] += c.delta.content ?? "";
    if (c.finish_reason) streamFinish[c.index] = c.finish_reason;
  }
}
out.stream = { texts: streamed, finish: streamFinish, usage: streamUsage, chunks };

const stopped = await client.chat.completions.create({ ...ask, n: 1, logprobs: false, top_logprobs: undefined, stop: ["."] });
out.stop = { text: stopped.choices[0].message.content, finish: stopped.choices[0].finish_reason };

const legacy = await client.completions.create({ model: "ref-lm", prompt: ["What do bees make?", "How do I plant a seed?"], n: 2, seed: 7, max_tokens: 12, logprobs: 1 });
out.completions = {
  object: legacy.object,
  indexes: legacy.choices.map((c) => c.index),
  texts: legacy.choices.map((c) => c.text),
  tokens: legacy.choices.map((c) => c.logprobs.tokens.length),
  usage: legacy.usage,
};

async function failure(fn) {
  try {
    await fn();
    return { thrown: false };
  } catch (e) {
    return { thrown: true, class: e.constructor.name, status: e.status, param: e.param ?? null, code: e.code ?? null, type: e.type ?? null, message: e.message };
  }
}
out.errors = {
  too_many: await failure(() => client.chat.completions.create({ ...ask, n: 1000 })),
  unknown_model: await failure(() => client.chat.completions.create({ ...ask, model: "no-such-model" })),
  bad_key: await failure(() => new OpenAI({ baseURL, apiKey: "wrong-key", maxRetries: 0 }).models.list()),
};

console.log(JSON.stringify(out));
