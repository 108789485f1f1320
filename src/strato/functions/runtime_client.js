// strato's Node.js runtime: a Lambda Runtime API client run as `node -e` inside an environment
// (isolated.py passes this file's text). It behaves for handlers like Lambda's nodejs runtimes:
// async or callback handlers, the context object, console lines with the request id, and error
// documents {errorType, errorMessage, trace}. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");
const url = require("url");
const util = require("util");

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let currentRequestId = "";

function request(method, route, body, headers) {
  return new Promise((resolve, reject) => {
    const options = { host, port, method, agent, headers, path: "/2018-06-01/runtime" + route };
    const req = http.request(options, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function post(route, body, headers) {
  return request("POST", route, body, { ...headers, "Content-Length": body.length });
}

function postError(route, doc) {
  const body = Buffer.from(JSON.stringify(doc));
  return post(route, body, { "Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": doc.errorType });
}

class Fault extends Error {
  constructor(type, message, cause) {
    super(message);
    this.faultType = type;
    this.causeStack = cause && cause.stack ? String(cause.stack).split("\n") : [];
  }
}

function errorDocument(error) {
  if (error instanceof Fault) {
    return { errorType: error.faultType, errorMessage: error.message,
             trace: [`${error.faultType}: ${error.message}`, ...error.causeStack.slice(1)] };
  }
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: String(error.stack || "").split("\n") };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

function logLine(level) {
  return (...args) => {
    const text = util.format(...args).replace(/\n/g, "\r");
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId || "undefined"}\t${level}\t${text}\n`);
  };
}
console.log = console.info = logLine("INFO");
console.warn = logLine("WARN");
console.error = logLine("ERROR");
console.debug = logLine("DEBUG");
console.trace = logLine("TRACE");

async function loadHandler(handler) {
  const dot = handler.lastIndexOf(".");
  if (dot < 0) throw new Fault("Runtime.MalformedHandlerName", "Bad handler");
  const moduleName = handler.slice(0, dot);
  const functionName = handler.slice(dot + 1);
  const base = path.resolve(process.env.LAMBDA_TASK_ROOT, moduleName);
  const file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => fs.existsSync(f));
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
  const fn = module[functionName];
  if (typeof fn !== "function") {
    throw new Fault("Runtime.HandlerNotFound", `${handler} is undefined or not exported`);
  }
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
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

function call(fn, event, ctx) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    try {
      const returned = fn(event, ctx, callback);
      if (returned && typeof returned.then === "function") returned.then(resolve, reject);
      else if (fn.length < 3) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
}

async function main() {
  let fn;
  try {
    fn = await loadHandler(process.env._HANDLER || "");
  } catch (error) {
    const doc = errorDocument(error);
    console.error(`${doc.errorType}: ${doc.errorMessage}`);
    await postError("/init/error", doc);
    process.exit(1);
  }
  for (;;) {
    const next = await request("GET", "/invocation/next");
    const requestId = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = requestId;
    process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"] || "";
    try {
      const result = await call(fn, JSON.parse(next.body.toString() || "null"), context(next.headers));
      const body = Buffer.from(result === undefined ? "null" : JSON.stringify(result));
      await post(`/invocation/${requestId}/response`, body, { "Content-Type": "application/json" });
    } catch (error) {
      const doc = errorDocument(error);
      process.stdout.write(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(doc)}\n`);
      await postError(`/invocation/${requestId}/error`, doc);
    }
  }
}

main();
