#!/usr/bin/env node
// conductor-compat client driver for the JavaScript SDK @io-orkes/conductor-javascript.
//
// Plays the standard client script of docs/client-drivers.md through the SDK's
// public API (OrkesClients -> WorkflowExecutor / MetadataClient / TaskClient, the
// client's taskResource for poll and full TaskResult updates, TaskHandler for the
// workers) and writes one record per script call.
//
// Usage: node driver.mjs --server http://127.0.0.1:PORT/api --prefix PREFIX --out FILE.json [--timeout 120]

import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const SDK_PACKAGE = "@io-orkes/conductor-javascript";
const UNKNOWN_ID = "00000000-0000-0000-0000-000000000000";
const OWNER_EMAIL = "compat@example.com";
const TERMINAL = new Set(["COMPLETED", "FAILED", "TERMINATED", "TIMED_OUT"]);
const BODY_LIMIT = 2000;

/** @typedef {{server: string, prefix: string, out: string, timeout: number}} Args */

/**
 * @param {string[]} argv
 * @returns {Args}
 */
function parseArgs(argv) {
  const usage =
    "usage: driver.mjs --server http://127.0.0.1:PORT/api --prefix PREFIX --out FILE.json [--timeout 120]";
  /** @type {Record<string, string>} */
  const found = {};
  for (let i = 0; i < argv.length; i += 1) {
    const key = argv[i];
    if (key === "-h" || key === "--help") {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    if (!["--server", "--prefix", "--out", "--timeout"].includes(key) || i + 1 >= argv.length) {
      process.stderr.write(`bad argument: ${key}\n${usage}\n`);
      process.exit(2);
    }
    found[key.slice(2)] = argv[i + 1];
    i += 1;
  }
  for (const required of ["server", "prefix", "out"]) {
    if (!found[required]) {
      process.stderr.write(`missing --${required}\n${usage}\n`);
      process.exit(2);
    }
  }
  const timeout = found.timeout === undefined ? 120 : Number(found.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    process.stderr.write(`bad --timeout: ${found.timeout}\n${usage}\n`);
    process.exit(2);
  }
  if (!/^https?:\/\/.+/.test(found.server)) {
    process.stderr.write(`bad --server: ${found.server}\n${usage}\n`);
    process.exit(2);
  }
  return { server: found.server, prefix: found.prefix, out: found.out, timeout };
}

/** The installed SDK version, read from its own package.json ("v4.0.0" there). */
function sdkVersion() {
  const path = join(HERE, "node_modules", ...SDK_PACKAGE.split("/"), "package.json");
  const version = String(JSON.parse(readFileSync(path, "utf8")).version);
  return version.replace(/^v/, "");
}

/** @param {unknown} arg */
const logText = (arg) =>
  arg !== null && typeof arg === "object" && !(arg instanceof Error) ? JSON.stringify(arg) : String(arg);

/** A logger for the SDK (ConductorLogger shape) that keeps stdout clean. */
const stderrLogger = {
  debug: () => {},
  info: () => {},
  /** @param {unknown[]} args */
  warn: (...args) => process.stderr.write(`[sdk warn] ${args.map(logText).join(" ")}\n`),
  /** @param {unknown[]} args */
  error: (...args) => process.stderr.write(`[sdk error] ${args.map(logText).join(" ")}\n`),
};

/**
 * The SDK's return value as plain JSON ("the object itself"); undefined (void) -> null.
 * @param {unknown} value
 * @returns {unknown}
 */
function toJson(value) {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

/**
 * @param {unknown} body
 * @returns {string | null}
 */
function bodyText(body) {
  if (body === undefined || body === null) return null;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return text === undefined ? null : text.slice(0, BODY_LIMIT);
}

/**
 * What the SDK raised, as the record's error object.
 * High-level clients raise ConductorSdkError (message only: no status, no body).
 * The client's legacy taskResource rethrows the parsed response body itself (a plain
 * object or a string), so its type is "Object"/"String" and the body is the thrown value.
 * @param {unknown} err
 * @returns {{type: string, message: string, status: number | null, body: string | null}}
 */
function describeError(err) {
  if (err instanceof Error) {
    const e = /** @type {Error & {status?: unknown, body?: unknown}} */ (err);
    return {
      type: e.constructor?.name || e.name || "Error",
      message: e.message,
      status: typeof e.status === "number" ? e.status : null,
      body: bodyText(e.body),
    };
  }
  if (err !== null && typeof err === "object") {
    const o = /** @type {Record<string, unknown>} */ (err);
    return {
      type: o.constructor?.name || "Object",
      message: typeof o.message === "string" ? o.message : JSON.stringify(o),
      status: typeof o.status === "number" ? o.status : null,
      body: bodyText(o),
    };
  }
  return {
    type: err === null || err === undefined ? String(err) : err.constructor.name,
    message: String(err),
    status: null,
    body: bodyText(err),
  };
}

class TimeoutError extends Error {}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Recorder {
  /** @type {Array<Record<string, unknown>>} */
  records = [];

  /**
   * Runs one script call and records its value or error. Returns the raw value
   * (undefined when it failed) so later steps can use it.
   * @template T
   * @param {string} call
   * @param {() => Promise<T>} fn
   * @param {(value: T) => unknown} [shape]
   * @returns {Promise<T | undefined>}
   */
  async run(call, fn, shape) {
    // When the call began and ended (wall-clock ms), to match the server's answers to it.
    const at_ms = Date.now();
    try {
      const value = await fn();
      const shown = toJson(shape ? shape(value) : value);
      this.records.push({ call, ok: true, value: shown, at_ms, end_ms: Date.now() });
      return value;
    } catch (err) {
      const error =
        err instanceof TimeoutError
          ? { type: "timeout", message: err.message, status: null, body: null }
          : describeError(err);
      this.records.push({ call, ok: false, error, at_ms, end_ms: Date.now() });
      return undefined;
    }
  }

  /**
   * @param {string} call
   * @param {string} message
   */
  notInSdk(call, message) {
    this.records.push({
      call,
      ok: false,
      error: { type: "not_in_sdk", message, status: null, body: null },
    });
  }

  /**
   * @param {string} call
   * @param {string} message
   */
  skipped(call, message) {
    this.records.push({
      call,
      ok: false,
      error: { type: "skipped", message, status: null, body: null },
    });
  }
}

/**
 * @param {Args} args
 * @param {Recorder} rec
 */
async function playScript(args, rec) {
  const sdk = await import(SDK_PACKAGE);
  const { OrkesClients, TaskHandler, getTaskContext } = sdk;
  const p = args.prefix;
  const names = {
    task: `${p}_task`,
    flaky: `${p}_flaky`,
    slow: `${p}_slow`,
    wf: `${p}_wf`,
    failWf: `${p}_fail_wf`,
  };
  const timeoutMs = args.timeout * 1000;

  const clients = await OrkesClients.from({ serverUrl: args.server, logger: stderrLogger });
  const client = clients.getClient();
  const workflows = clients.getWorkflowClient();
  const metadata = clients.getMetadataClient();
  const tasks = clients.getTaskClient();

  /**
   * Polls the workflow through the SDK until `done(status)` or the timeout.
   * @param {string} id
   * @param {(status: string) => boolean} done
   * @returns {Promise<{status: string}>}
   */
  const waitFor = async (id, done) => {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      const wf = await workflows.getWorkflow(id, false);
      last = String(wf?.status);
      if (done(last)) return { status: last };
      if (Date.now() >= deadline) {
        throw new TimeoutError(`workflow ${id} still ${last} after ${args.timeout}s`);
      }
      await sleep(250);
    }
  };
  /** @param {string} id */
  const waitTerminal = (id) => waitFor(id, (s) => TERMINAL.has(s));

  /**
   * Polls one `{prefix}_task` task of workflow `wfId` through the client's task resource.
   * @param {string} wfId
   */
  const pollOne = async (wfId) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const task = await client.taskResource.poll(names.task, "compat", undefined);
      if (task && task.taskId && task.workflowInstanceId === wfId) return task;
      if (task && task.taskId) {
        process.stderr.write(`polled a task of another workflow: ${task.workflowInstanceId}\n`);
      }
      if (Date.now() >= deadline) {
        throw new TimeoutError(`no ${names.task} task of ${wfId} polled in ${args.timeout}s`);
      }
      await sleep(250);
    }
  };

  // 1-4: metadata.
  const common = { timeoutSeconds: 120, ownerEmail: OWNER_EMAIL };
  await rec.run("register_task_defs", () =>
    metadata.registerTasks([
      { name: names.task, retryCount: 0, responseTimeoutSeconds: 60, ...common },
      {
        name: names.flaky,
        retryCount: 1,
        retryLogic: "FIXED",
        retryDelaySeconds: 0,
        responseTimeoutSeconds: 60,
        ...common,
      },
      { name: names.slow, retryCount: 0, responseTimeoutSeconds: 30, ...common },
    ]),
  );
  await rec.run("get_task_def", () => metadata.getTask(names.task));
  /** @param {string} name @param {string} ref @param {Record<string, unknown>} input */
  const simple = (name, ref, input) => ({
    name,
    taskReferenceName: ref,
    type: "SIMPLE",
    inputParameters: input,
  });
  await rec.run("register_workflow_def", async () => {
    await metadata.registerWorkflowDef({
      name: names.wf,
      version: 1,
      schemaVersion: 2,
      ownerEmail: OWNER_EMAIL,
      timeoutSeconds: 300,
      tasks: [
        simple(names.task, "t1", { x: "${workflow.input.x}" }),
        simple(names.flaky, "t2", {}),
        simple(names.slow, "t3", {}),
      ],
      outputParameters: { result: "${t1.output.y}" },
    });
    await metadata.registerWorkflowDef({
      name: names.failWf,
      version: 1,
      schemaVersion: 2,
      ownerEmail: OWNER_EMAIL,
      timeoutSeconds: 300,
      tasks: [simple(names.task, "f1", {})],
      outputParameters: {},
    });
  });
  await rec.run("get_workflow_def", () => metadata.getWorkflowDef(names.wf, 1));

  // 5-6: starts.
  const wfId = await rec.run("start_workflow", () =>
    workflows.startWorkflow({
      name: names.wf,
      version: 1,
      input: { x: 21 },
      correlationId: `${p}-c1`,
    }),
  );
  await rec.run("start_workflow_sync", () =>
    workflows.executeWorkflow(
      { name: names.wf, version: 1, input: { x: 1 } },
      names.wf,
      1,
      randomUUID(),
      "",
      10,
      undefined,
      undefined,
    ),
  );

  // 7: the SDK's worker framework.
  const slowSeen = new Set();
  const workerDefs = [
    {
      taskDefName: names.task,
      pollInterval: 100,
      concurrency: 1,
      /** @param {any} task */
      execute: async (task) => {
        getTaskContext()?.addLog("doubled");
        return { status: "COMPLETED", outputData: { y: Number(task.inputData?.x) * 2 } };
      },
    },
    {
      taskDefName: names.flaky,
      pollInterval: 100,
      concurrency: 1,
      /** @param {any} task */
      execute: async (task) =>
        (task.retryCount ?? 0) === 0
          ? { status: "FAILED", reasonForIncompletion: "flaky", outputData: {} }
          : { status: "COMPLETED", outputData: { attempt: 2 } },
    },
    {
      taskDefName: names.slow,
      pollInterval: 100,
      concurrency: 1,
      /** @param {any} task */
      execute: async (task) => {
        if (!slowSeen.has(task.taskId)) {
          slowSeen.add(task.taskId);
          return { status: "IN_PROGRESS", callbackAfterSeconds: 1 };
        }
        return { status: "COMPLETED", outputData: { done: true } };
      },
    },
  ];
  /** @type {any} */
  let handler;
  await rec.run(
    "run_workers",
    async () => {
      handler = new TaskHandler({
        client,
        workers: workerDefs,
        scanForDecorated: false,
        logger: stderrLogger,
      });
      await handler.startWorkers();
      if (!wfId) throw new Error("no workflow id from start_workflow");
      return waitTerminal(wfId);
    },
  );

  // 8.
  /** @type {any} */
  let full;
  if (wfId) {
    full = await rec.run("get_workflow_with_tasks", () => workflows.getWorkflow(wfId, true));
    await rec.run("get_workflow_without_tasks", () => workflows.getWorkflow(wfId, false));
  } else {
    rec.skipped("get_workflow_with_tasks", "start_workflow failed");
    rec.skipped("get_workflow_without_tasks", "start_workflow failed");
  }
  await rec.run("stop_workers", async () => {
    if (handler) await handler.stopWorkers();
  });

  // 9.
  /** @type {any[]} */
  const wfTasks = Array.isArray(full?.tasks) ? full.tasks : [];
  const firstTask = wfTasks[0];
  const t1 = wfTasks.find((t) => t.referenceTaskName === "t1");
  if (firstTask?.taskId) {
    await rec.run("get_task", () => tasks.getTask(firstTask.taskId));
  } else {
    rec.skipped("get_task", "no task in get_workflow_with_tasks");
  }
  if (t1?.taskId) {
    await rec.run("get_task_logs", () => tasks.getTaskLogs(t1.taskId));
  } else {
    rec.skipped("get_task_logs", "no t1 task in get_workflow_with_tasks");
  }

  // 10.
  await rec.run("search", () => workflows.search(0, 10, `workflowType IN (${names.wf})`, "*"));

  // 11.
  const pauseId = await rec.run("start_for_pause", () =>
    workflows.startWorkflow({
      name: names.wf,
      version: 1,
      input: { x: 21 },
      correlationId: `${p}-c2`,
    }),
  );
  /** @param {any} wf */
  const statusOnly = (wf) => ({ status: wf?.status });
  if (pauseId) {
    await rec.run("pause", () => workflows.pause(pauseId));
    await rec.run("get_after_pause", () => workflows.getWorkflow(pauseId, false), statusOnly);
    await rec.run("resume", () => workflows.resume(pauseId));
    await rec.run("get_after_resume", () => workflows.getWorkflow(pauseId, false), statusOnly);
    await rec.run("terminate", () => workflows.terminate(pauseId, "compat"));
    await rec.run("get_after_terminate", () => workflows.getWorkflow(pauseId, false), statusOnly);
  } else {
    for (const call of [
      "pause",
      "get_after_pause",
      "resume",
      "get_after_resume",
      "terminate",
      "get_after_terminate",
    ]) {
      rec.skipped(call, "start_for_pause failed");
    }
  }

  // 12.
  const failId = await rec.run("start_fail", () =>
    workflows.startWorkflow({
      name: names.failWf,
      version: 1,
      input: {},
      correlationId: `${p}-c3`,
    }),
  );
  if (failId) {
    const polled = await rec.run("poll_task", () => pollOne(failId));
    if (polled) {
      await rec.run("update_task", () =>
        client.taskResource.updateTask1({
          workflowInstanceId: failId,
          taskId: polled.taskId,
          status: "FAILED",
          reasonForIncompletion: "boom",
          outputData: {},
          workerId: "compat",
        }),
      );
    } else {
      rec.skipped("update_task", "poll_task failed");
    }
    // Waits until terminal; the value tells whether that was FAILED.
    await rec.run("wait_failed", () => waitTerminal(failId));
    await rec.run("retry", () => workflows.retry(failId, false));
    const retried = await rec.run("poll_retried", () => pollOne(failId));
    if (retried) {
      await rec.run("update_retried", () =>
        client.taskResource.updateTask1({
          workflowInstanceId: failId,
          taskId: retried.taskId,
          status: "COMPLETED",
          outputData: { y: 0 },
          workerId: "compat",
        }),
      );
    } else {
      rec.skipped("update_retried", "poll_retried failed");
    }
    await rec.run("wait_retried", () => waitTerminal(failId));
    await rec.run("rerun", () => workflows.reRun(failId, { reRunFromWorkflowId: failId }));
    await rec.run("terminate_rerun", () => workflows.terminate(failId, "compat"));
  } else {
    for (const call of [
      "poll_task",
      "update_task",
      "wait_failed",
      "retry",
      "poll_retried",
      "update_retried",
      "wait_retried",
      "rerun",
      "terminate_rerun",
    ]) {
      rec.skipped(call, "start_fail failed");
    }
  }

  // 13.
  rec.notInSdk(
    "ack",
    "@io-orkes/conductor-javascript has no task-ack call (TaskClient, WorkflowExecutor and the client's taskResource offer none)",
  );

  // 14.
  await rec.run("get_unknown_workflow", () => workflows.getWorkflow(UNKNOWN_ID, true));
  await rec.run("get_unknown_task", () => tasks.getTask(UNKNOWN_ID));

  // 15.
  if (pauseId) {
    await rec.run("remove", () => workflows.deleteWorkflow(pauseId, false));
  } else {
    rec.skipped("remove", "start_for_pause failed");
  }

  // 16.
  await rec.run("get_all_workflow_defs", () => metadata.getAllWorkflowDefs(), (defs) =>
    Array.isArray(defs)
      ? defs.filter((d) => typeof d?.name === "string" && d.name.startsWith(p))
      : defs,
  );
  await rec.run("unregister_workflow_def", async () => {
    await metadata.unregisterWorkflow(names.wf, 1);
    await metadata.unregisterWorkflow(names.failWf, 1);
  });
  await rec.run("unregister_task_def", async () => {
    await metadata.unregisterTask(names.task);
    await metadata.unregisterTask(names.flaky);
    await metadata.unregisterTask(names.slow);
  });

  // No background token refresh runs without keys; stop it anyway.
  client.stopBackgroundRefresh?.();
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  // Only --server is reached: the SDK lets these variables override the config.
  for (const name of Object.keys(process.env)) {
    if (name.startsWith("CONDUCTOR_")) delete process.env[name];
  }
  const rec = new Recorder();
  const doc = {
    driver: {
      sdk: "javascript",
      package: SDK_PACKAGE,
      version: sdkVersion(),
      language: `node ${process.version}`,
    },
    records: rec.records,
  };
  let fatal = null;
  try {
    await playScript(args, rec);
  } catch (err) {
    fatal = err;
  }
  writeFileSync(args.out, `${JSON.stringify(doc, null, 2)}\n`, "utf8");
  if (fatal) {
    const e = describeError(fatal);
    process.stderr.write(`driver could not go on: ${e.type}: ${e.message}\n`);
    process.exitCode = 1;
  }
}

await main();
