// strato's Node.js runtime: a Lambda Runtime API client run as `node -e` inside an environment
// (isolated.py passes this file's text). It behaves for handlers like Lambda's nodejs runtimes:
// async or callback handlers, the context object, console lines with the request id, and error
// documents {errorType, errorMessage, trace}. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
// Response streaming as Lambda's nodejs runtimes have it: the globals awslambda.streamifyResponse
// and awslambda.HttpResponseStream.from; a streaming handler's writes go out as the chunks of a
// streamed POST .../response. https://docs.aws.amazon.com/lambda/latest/dg/config-rs-write-functions.html
"use strict";
const fs = require("fs");
const net = require("net");
const path = require("path");
const stream = require("stream");
const url = require("url");
const util = require("util");

const API = "/2018-06-01/runtime";
const END_MARK = "\0strato-end ";
const MARK_MAX = 256;
// The Runtime API connection strato hands over at launch, and the secret of the end marks
// (envprocs.py): taken out of the environment before the handler loads.
const handedFd = process.env._STRATO_RUNTIME_API_FD;
const logSecret = process.env._STRATO_LOG_SECRET || "";
const apiHost = process.env.AWS_LAMBDA_RUNTIME_API;
delete process.env._STRATO_RUNTIME_API_FD;
delete process.env._STRATO_LOG_SECRET;
let currentRequestId = "";

// The connection handed over at launch, else one dialled to AWS_LAMBDA_RUNTIME_API.
function connect() {
  if (handedFd !== undefined) return new net.Socket({ fd: Number(handedFd), readable: true, writable: true });
  const colon = apiHost.lastIndexOf(":");
  return net.connect(Number(apiHost.slice(colon + 1)), apiHost.slice(0, colon));
}

// One keep-alive HTTP/1.1 connection to the Runtime API, spoken directly: the API answers
// with Content-Length bodies, in order, one answer per request.
class RuntimeApi {
  constructor() {
    this.socket = connect();
    this.socket.setNoDelay(true);
    this.chunks = [];  // read and not yet answered
    this.size = 0;
    this.needed = 0;  // how many bytes the first answer needs, once its head is read
    this.waiting = [];
    this.socket.on("data", (chunk) => {
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size >= this.needed) this.answer();
    });
    const lost = () => process.exit(1);  // the environment is being stopped
    this.socket.on("close", lost);
    this.socket.on("error", lost);
  }

  // Resolves the answers read whole. What is read is joined only then: a large body comes in
  // many reads, and joining at each one would copy it over and over.
  answer() {
    let buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    this.needed = 0;
    while (this.waiting.length) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) break;
      const lines = buffer.toString("utf8", 0, end).split("\r\n");  // a client context's JSON is UTF-8
      const headers = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const stop = end + 4 + Number(headers["content-length"] || 0);
      if (buffer.length < stop) {
        this.needed = stop;
        break;
      }
      const body = buffer.subarray(end + 4, stop);
      buffer = buffer.subarray(stop);
      this.waiting.shift()({ status: Number(lines[0].split(" ")[1]), headers, body });
    }
    this.chunks = buffer.length ? [buffer] : [];
    this.size = buffer.length;
  }

  // Writes the requests in one write; a promise of each one's answer.
  send(...requests) {
    this.socket.write(Buffer.concat(requests));
    return requests.map(() => new Promise((resolve) => this.waiting.push(resolve)));
  }
}

function request(method, route, body, headers) {
  const head = Object.entries(headers || {}).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  const length = body ? `Content-Length: ${body.length}\r\n` : "";
  const text = `${method} ${API}${route} HTTP/1.1\r\nHost: ${apiHost}\r\n${head}${length}\r\n`;
  return body ? Buffer.concat([Buffer.from(text, "latin1"), body]) : Buffer.from(text, "latin1");
}

// Response streaming: a handler marked by streamifyResponse gets a writable stream as its second
// argument; it is the body of a chunked POST .../response in Lambda's streaming mode, whose head
// goes with the first write (or the end), once the content type is known.
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";
const CRLF = Buffer.from("\r\n");

class ResponseStream extends stream.Writable {
  constructor(api, requestId) {
    super();
    this.api = api;
    this.requestId = requestId;
    this.contentType = "application/octet-stream";
    this.answer = null;  // the Runtime API's answer, once the head is sent
    this.ended = false;  // the last chunk is sent: what the handler still queued is dropped
  }

  setContentType(type) {
    this.contentType = String(type);
  }

  open() {
    if (this.answer) return;
    const head = `POST ${API}/invocation/${this.requestId}/response HTTP/1.1\r\nHost: ${apiHost}\r\n` +
      "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n" +
      `Content-Type: ${this.contentType.replace(/[\r\n]/g, " ")}\r\n` +
      "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n";
    [this.answer] = this.api.send(Buffer.from(head, "latin1"));
  }

  // Any value other than text or bytes is written as its JSON, as Lambda's runtime writes it.
  write(chunk, encoding, callback) {
    const data = typeof chunk === "string" || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
    return super.write(data, encoding, callback);
  }

  // The socket's own flow control paces the handler: the callback runs once the chunk is out.
  _write(chunk, encoding, callback) {
    if (this.ended) return callback();
    this.open();
    if (!chunk.length) return callback();
    this.api.socket.write(Buffer.concat([Buffer.from(chunk.length.toString(16) + "\r\n"), chunk, CRLF]),
                          () => callback());
  }

  // The last chunk: with the error trailers when the invocation failed mid-stream. Writes the
  // handler queued behind one still going out never follow it.
  close(doc) {
    this.open();
    this.ended = true;
    let trailers = "";
    if (doc) {
      trailers = `Lambda-Runtime-Function-Error-Type: ${doc.errorType}\r\n` +
        `Lambda-Runtime-Function-Error-Body: ${Buffer.from(JSON.stringify(doc)).toString("base64")}\r\n`;
    }
    this.api.socket.write(Buffer.from(`0\r\n${trailers}\r\n`, "latin1"));
    return this.answer;
  }
}

globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[STREAMING] = "response";
    return handler;
  },
  HttpResponseStream: class HttpResponseStream {
    // The prelude (statusCode, headers, cookies) then 8 NUL bytes, before the body.
    static from(responseStream, prelude) {
      responseStream.setContentType(HTTP_INTEGRATION);
      responseStream.write(JSON.stringify(prelude || {}));
      responseStream.write(Buffer.alloc(8));
      return responseStream;
    }
  },
};

function errorRequest(route, doc) {
  const body = Buffer.from(JSON.stringify(doc));
  return request("POST", route, body, { "Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": doc.errorType });
}

// A runtime-detected failure named by its Lambda error type (Runtime.ImportModuleError...), its
// stack the cause's frames under that name. Name and stack are not enumerable, as an Error's own.
class Fault extends Error {
  constructor(type, message, cause) {
    super(message);
    const frames = cause && cause.stack ? String(cause.stack).split("\n").slice(1) : [];
    Object.defineProperty(this, "name", { value: type });
    Object.defineProperty(this, "stack", { value: [`${type}: ${message}`, ...frames].join("\n") });
  }
}

function errorDocument(error) {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: String(error.stack || "").split("\n") };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

// An error as Lambda's runtime logs it (Errors.toFormatted): a tab, then its JSON with each
// Error's type, message, code, own properties and stack lines.
function formatted(error) {
  const shown = (_key, value) => {
    if (!(value instanceof Error)) return value;
    const fields = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
    if (typeof value.stack === "string") fields.stack = value.stack.split("\n");
    return fields;
  };
  try {
    return "\t" + JSON.stringify(error, shown);
  } catch (_) {
    return "\t" + JSON.stringify(errorDocument(error));
  }
}

// Output up to an end mark is the invocation it names (logs.py EndMarks). An invocation that
// printed nothing owes its mark until something is printed next (runtime_client.py Unbuffered).
// Writes to the log pipe block until done: node leaves a pipe non-blocking and queues what a full
// one refuses, which would reach the log after the mark (or make the mark's write fail).
const printed = { since: false, owed: "" };
for (const stream of [process.stdout, process.stderr]) {
  if (stream._handle && stream._handle.setBlocking) stream._handle.setBlocking(true);
  const write = stream.write.bind(stream);
  stream.write = (...args) => {
    printed.since = true;
    if (printed.owed) {
      fs.writeSync(1, printed.owed);
      printed.owed = "";
    }
    return write(...args);
  };
}

function markEnd(requestId) {
  if (!logSecret) return;
  const mark = END_MARK + `${logSecret} ${requestId}\n`.slice(0, MARK_MAX - END_MARK.length);
  if (printed.since) fs.writeSync(1, mark);
  else printed.owed = mark;
}

// Console lines as Lambda's Node.js runtime writes them (LogPatch.js), in the function's log
// format (AWS_LAMBDA_LOG_FORMAT): text, or one JSON object a line with an Error's type, message
// and stack; levels below AWS_LAMBDA_LOG_LEVEL are not written (with neither, all are).
const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const jsonLogs = process.env.AWS_LAMBDA_LOG_FORMAT === "JSON";
const lowestLevel = Math.max(0, LEVELS.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL || "").toUpperCase()));

function errorFields(error) {
  return { errorType: error?.constructor?.name ?? "UnknownError", errorMessage: error.message,
    stackTrace: typeof error.stack === "string" ? error.stack.split("\n") : error.stack };
}

const withErrors = (_key, value) => value instanceof Error ? Object.assign(errorFields(value), value) : value;

function jsonLine(level, args) {
  const record = { timestamp: new Date().toISOString(), level, requestId: currentRequestId || undefined };
  if (args.length === 1) {
    record.message = args[0];
    try {
      return JSON.stringify(record, withErrors);
    } catch (_) {  // a value JSON cannot write (a cycle, a BigInt): its util.format text
      record.message = util.format(record.message);
      return JSON.stringify(record, withErrors);
    }
  }
  record.message = util.format(...args);
  const error = args.find((arg) => arg instanceof Error);
  if (error) Object.assign(record, errorFields(error));
  return JSON.stringify(record, withErrors);
}

function logLine(level) {
  if (LEVELS.indexOf(level) < lowestLevel) return () => {};
  return (...args) => {
    const line = jsonLogs ? jsonLine(level, args) : `${new Date().toISOString()}\t${currentRequestId || "undefined"}` +
      `\t${level}\t${util.format(...args).replace(/\n/g, "\r")}`;
    process.stdout.write(line + "\n");
  };
}
console.log = console.info = logLine("INFO");
console.warn = logLine("WARN");
console.error = logLine("ERROR");
console.debug = logLine("DEBUG");
console.trace = logLine("TRACE");
console.fatal = logLine("FATAL");

// An error the runtime logs (labelled "Invoke Error", "Uncaught Exception"...): in text its
// formatted JSON after a tab, in JSON the Error itself.
function logError(label, error) {
  console.error(label, jsonLogs ? error : formatted(error));
}

// The handler as Lambda's runtime finds it (UserFunction.load): the module is named by the
// handler's last path segment up to its first dot, in the folder before that segment (a file,
// .js, .mjs or .cjs, or a directory with an index); the rest is a path through its exports.
async function loadHandler(handler) {
  if (handler.includes("..")) {
    throw new Fault("Runtime.MalformedHandlerName", `'${handler}' is not a valid handler name. ` +
                    "Use absolute paths when specifying root directories in handler names.");
  }
  const last = path.basename(handler);
  const match = last.match(/^([^.]*)\.(.*)$/);
  if (!match) throw new Fault("Runtime.MalformedHandlerName", "Bad handler");
  const [, moduleName, exportPath] = match;
  const base = path.resolve(process.env.LAMBDA_TASK_ROOT, handler.slice(0, handler.length - last.length), moduleName);
  const file = ["", ".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => fs.existsSync(f));
  let module;
  try {
    if (!file) {
      const error = new Error(`Cannot find module '${moduleName}'`);
      error.code = "MODULE_NOT_FOUND";
      throw error;
    }
    module = file.endsWith(".mjs") ? await import(url.pathToFileURL(file).href) : require(file);
  } catch (error) {
    if (error instanceof SyntaxError) throw new Fault("Runtime.UserCodeSyntaxError", String(error), error);
    if (error.code === "MODULE_NOT_FOUND" || error.code === "ERR_MODULE_NOT_FOUND") {
      throw new Fault("Runtime.ImportModuleError", `Error: Cannot find module '${moduleName}'`, error);
    }
    throw error;
  }
  const fn = exportPath.split(".").reduce((nested, key) => nested && nested[key], module);
  if (!fn) throw new Fault("Runtime.HandlerNotFound", `${handler} is undefined or not exported`);
  if (typeof fn !== "function") throw new Fault("Runtime.HandlerNotFound", `${handler} is not a function`);
  return fn;
}

function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const parse = (value) => (value ? JSON.parse(value) : undefined);
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parse(headers["lambda-runtime-cognito-identity"]),
    clientContext: parse(headers["lambda-runtime-client-context"]),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

// The handler's answer as Lambda's runtime takes it (CallbackContext): a promise's, when it
// settles; else the callback's, or context.done / succeed / fail's. An error is taken at once; a
// result passed to the callback once node's event loop is empty, unless the handler cleared
// context.callbackWaitsForEmptyEventLoop; a handler that never answers answers null once the
// loop is empty (what a handler that is not async returns is no answer). Meanwhile the Runtime
// API connection does not keep the loop alive: 'beforeExit' says it is empty.
function call(fn, event, ctx) {
  return new Promise((resolve, reject) => {
    let waits = true;
    let onEmpty = null;
    const finish = (error, result) => {
      process.removeListener("beforeExit", onEmpty);
      turn.api.socket.ref();
      if (error !== undefined && error !== null) reject(error);
      else resolve(result);
    };
    onEmpty = () => finish(null, null);
    const callback = (error, result) => {
      if ((error !== undefined && error !== null) || !waits) finish(error, result);
      else {
        process.removeListener("beforeExit", onEmpty);
        onEmpty = () => finish(null, result);
        process.on("beforeExit", onEmpty);
      }
    };
    const done = (error, result) => {
      waits = false;
      callback(error, result);
    };
    Object.defineProperty(ctx, "callbackWaitsForEmptyEventLoop",
                          { get: () => waits, set: (value) => { waits = value; }, enumerable: true });
    Object.assign(ctx, { done, succeed: (result) => done(null, result),
                         fail: (error) => done(error === undefined || error === null ? "handled" : error) });
    turn.api.socket.unref();
    process.on("beforeExit", onEmpty);
    try {
      const returned = fn(event, ctx, callback);
      if (returned && typeof returned.then === "function") returned.then((result) => finish(null, result), ctx.fail);
    } catch (error) {
      finish(error);
    }
  });
}

// What ends the process as Lambda's runtime reports it: an exception nothing caught, or a
// rejection nothing handled, is the error of the invocation in hand (or of the initialisation),
// posted before node exits with 129 or 128; after an invocation's answer, node just exits.
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
UnhandledPromiseRejection.prototype.name = "Runtime.UnhandledPromiseRejection";
const turn = { api: null, requestId: null, initialising: true, ending: false, stream: null };

function fatal(label, error, code) {
  if (turn.ending) return;
  turn.ending = true;
  const doc = errorDocument(error);
  const requestId = turn.requestId;
  if (turn.api !== null) turn.api.socket.ref();  // until the error is posted
  logError(label, error);
  let route = null;
  if (requestId) {
    markEnd(requestId);
    route = `/invocation/${requestId}/error`;
  } else if (turn.initialising) {
    route = "/init/error";
  }
  if (route === null || turn.api === null) process.exit(code);
  // Once the Runtime API has it: mid-stream, as the stream's error trailers.
  const streaming = turn.stream && turn.stream.answer;
  const answered = streaming ? turn.stream.close(doc) : turn.api.send(errorRequest(route, doc))[0];
  answered.then(() => process.exit(code));
}

// An invocation's error: logged as an Error (a thrown value that is not one is wrapped, as the
// runtime's intoError does), posted as its error document.
function invokeError(error) {
  logError("Invoke Error", error instanceof Error ? error : new Error(error));
  return errorDocument(error);
}

// A whole answer: the request that posts it.
async function answerWhole(fn, invocation, requestId) {
  try {
    const result = await call(fn, JSON.parse(invocation.body.toString() || "null"), context(invocation.headers));
    const body = Buffer.from(stringified(result));
    return request("POST", `/invocation/${requestId}/response`, body, { "Content-Type": "application/json" });
  } catch (error) {
    return errorRequest(`/invocation/${requestId}/error`, invokeError(error));
  }
}

// A result's JSON; one JSON cannot write (a cycle, a BigInt) fails as Lambda's runtime words it.
function stringified(result) {
  try {
    return JSON.stringify(result === undefined ? null : result);
  } catch (_) {
    throw new Error("Unable to stringify response body");
  }
}

// A streamed answer: the handler writes it; its end (or its error) is posted when the handler is
// done. An error before anything was written is posted as any other invocation error.
async function answerStreaming(fn, invocation, requestId) {
  const responseStream = turn.stream = new ResponseStream(turn.api, requestId);
  let doc = null;
  try {
    await fn(JSON.parse(invocation.body.toString() || "null"), responseStream, context(invocation.headers));
    if (!responseStream.writableEnded) responseStream.end();
    await stream.promises.finished(responseStream);
  } catch (error) {
    doc = invokeError(error);
  }
  return () => {
    turn.stream = null;
    if (doc && !responseStream.answer) turn.api.send(errorRequest(`/invocation/${requestId}/error`, doc));
    else responseStream.close(doc);
  };
}

process.on("uncaughtException", (error) => fatal("Uncaught Exception", error, 129));
process.on("unhandledRejection", (reason, promise) => fatal("Unhandled Promise Rejection",
                                                            new UnhandledPromiseRejection(reason, promise), 128));

async function main() {
  const api = turn.api = new RuntimeApi();
  let fn;
  try {
    fn = await loadHandler(process.env._HANDLER || "");
  } catch (error) {
    logError("Uncaught Exception", error);
    await api.send(errorRequest("/init/error", errorDocument(error)))[0];
    process.exit(1);
  }
  const nextRequest = request("GET", "/invocation/next");
  turn.initialising = false;
  let [next] = api.send(nextRequest);
  for (;;) {
    const invocation = await next;
    const requestId = invocation.headers["lambda-runtime-aws-request-id"];
    currentRequestId = turn.requestId = requestId;
    printed.since = false;
    process.env._X_AMZN_TRACE_ID = invocation.headers["lambda-runtime-trace-id"] || "";
    const answer = fn[STREAMING] === "response" ? await answerStreaming(fn, invocation, requestId)
      : await answerWhole(fn, invocation, requestId);
    if (turn.ending) return;  // an uncaught error answered this invocation already
    turn.requestId = null;
    markEnd(requestId);
    if (typeof answer === "function") answer();
    else api.send(answer);
    // GET next follows once this turn is over (Lambda's runtime asks from a setImmediate too): a
    // rejection the handler left unhandled ends the process first, before it is handed another
    // invocation. The Runtime API answers it when the next invocation comes.
    await new Promise(setImmediate);
    [next] = api.send(nextRequest);
  }
}

main();
