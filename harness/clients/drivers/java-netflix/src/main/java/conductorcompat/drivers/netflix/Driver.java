package conductorcompat.drivers.netflix;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.netflix.conductor.client.automator.TaskRunnerConfigurer;
import com.netflix.conductor.client.exception.ConductorClientException;
import com.netflix.conductor.client.http.MetadataClient;
import com.netflix.conductor.client.http.TaskClient;
import com.netflix.conductor.client.http.WorkflowClient;
import com.netflix.conductor.client.worker.Worker;
import com.netflix.conductor.common.config.ObjectMapperProvider;
import com.netflix.conductor.common.metadata.tasks.Task;
import com.netflix.conductor.common.metadata.tasks.TaskDef;
import com.netflix.conductor.common.metadata.tasks.TaskResult;
import com.netflix.conductor.common.metadata.workflow.RerunWorkflowRequest;
import com.netflix.conductor.common.metadata.workflow.StartWorkflowRequest;
import com.netflix.conductor.common.metadata.workflow.WorkflowDef;
import com.netflix.conductor.common.metadata.workflow.WorkflowTask;
import com.netflix.conductor.common.run.Workflow;
import com.sun.jersey.api.client.config.ClientConfig;
import com.sun.jersey.api.client.config.DefaultClientConfig;

/**
 * conductor-compat client driver for the Netflix Java client (com.netflix.conductor:conductor-client).
 *
 * <p>Plays the standard client script of docs/client-drivers.md through the client's public API
 * (MetadataClient, WorkflowClient, TaskClient and its own worker framework, TaskRunnerConfigurer)
 * and writes the record document.
 */
public final class Driver {

    static final String SDK = "java";
    static final String PACKAGE = "com.netflix.conductor:conductor-client";
    static final String OWNER = "compat@example.com";
    static final String ZERO_ID = "00000000-0000-0000-0000-000000000000";
    static final String WORKER_ID = "compat";
    static final int BODY_LIMIT = 2000;
    static final long POLL_PAUSE_MS = 250;
    static final Set<Workflow.WorkflowStatus> TERMINAL =
            Set.of(
                    Workflow.WorkflowStatus.COMPLETED,
                    Workflow.WorkflowStatus.FAILED,
                    Workflow.WorkflowStatus.TERMINATED,
                    Workflow.WorkflowStatus.TIMED_OUT);

    // --- command line ---

    static final class Args {
        String server;
        String prefix;
        String out;
        double timeout = 120;
    }

    static final class BadArgs extends Exception {
        BadArgs(String message) {
            super(message);
        }
    }

    static Args parseArgs(String[] argv) throws BadArgs {
        Args args = new Args();
        for (int i = 0; i < argv.length; i++) {
            String flag = argv[i];
            String value;
            int eq = flag.indexOf('=');
            if (flag.startsWith("--") && eq > 0) {
                value = flag.substring(eq + 1);
                flag = flag.substring(0, eq);
            } else {
                if (i + 1 >= argv.length) {
                    throw new BadArgs("missing value for " + flag);
                }
                value = argv[++i];
            }
            switch (flag) {
                case "--server":
                    args.server = value;
                    break;
                case "--prefix":
                    args.prefix = value;
                    break;
                case "--out":
                    args.out = value;
                    break;
                case "--timeout":
                    try {
                        args.timeout = Double.parseDouble(value);
                    } catch (NumberFormatException e) {
                        throw new BadArgs("--timeout must be a number");
                    }
                    break;
                default:
                    throw new BadArgs("unknown argument " + flag);
            }
        }
        if (args.server == null || args.prefix == null || args.out == null) {
            throw new BadArgs("--server, --prefix and --out are required");
        }
        while (args.server.endsWith("/")) {
            args.server = args.server.substring(0, args.server.length() - 1);
        }
        if (!(args.server.startsWith("http://") || args.server.startsWith("https://"))
                || !args.server.endsWith("/api")) {
            throw new BadArgs("--server must be an http(s) URL ending in /api");
        }
        if (args.prefix.isEmpty() || !(args.timeout > 0)) {
            throw new BadArgs("--prefix must be non-empty and --timeout positive");
        }
        return args;
    }

    // --- recording ---

    /** A bounded wait ran out (recorded with type {@code timeout}). */
    static final class Timeout extends Exception {
        Timeout(String message) {
            super(message);
        }
    }

    static final class Recorder {
        final ObjectMapper mapper;
        final ArrayNode records;

        Recorder(ObjectMapper mapper) {
            this.mapper = mapper;
            this.records = mapper.createArrayNode();
        }

        /** Runs one script call; records its serialized value or its error. Null on error. */
        <T> T call(String name, Callable<T> fn) {
            long began = System.currentTimeMillis();
            int before = records.size();
            try {
                return record(name, fn);
            } finally {
                // When the call began and ended (wall-clock ms), to match the server's answers.
                if (records.size() > before) {
                    ObjectNode last = (ObjectNode) records.get(records.size() - 1);
                    last.put("at_ms", began);
                    last.put("end_ms", System.currentTimeMillis());
                }
            }
        }

        private <T> T record(String name, Callable<T> fn) {
            T raw;
            try {
                raw = fn.call();
            } catch (Exception e) {
                error(name, errorOf(e));
                return null;
            }
            JsonNode value;
            try {
                value = raw == null ? mapper.nullNode() : mapper.valueToTree(raw);
            } catch (RuntimeException e) {
                ObjectNode err = errorOf(e);
                err.put("message", "value not serializable: " + err.path("message").asText());
                error(name, err);
                return raw;
            }
            ObjectNode rec = records.addObject();
            rec.put("call", name);
            rec.put("ok", true);
            rec.set("value", value);
            return raw;
        }

        /** A void call. */
        void run(String name, ThrowingRunnable fn) {
            call(
                    name,
                    () -> {
                        fn.run();
                        return null;
                    });
        }

        void notInSdk(String name, String what) {
            error(name, plainError("not_in_sdk", PACKAGE + " " + clientVersion() + " offers no " + what));
        }

        /** A call that could not be made because an earlier call it depends on failed. */
        void skipped(String name, String reason) {
            error(name, plainError("skipped", reason));
        }

        ObjectNode plainError(String type, String message) {
            ObjectNode err = mapper.createObjectNode();
            err.put("type", type);
            err.put("message", message);
            err.putNull("status");
            err.putNull("body");
            return err;
        }

        void error(String name, ObjectNode err) {
            ObjectNode rec = records.addObject();
            rec.put("call", name);
            rec.put("ok", false);
            rec.set("error", err);
        }

        ObjectNode errorOf(Throwable e) {
            if (e instanceof Timeout) {
                return plainError("timeout", e.getMessage());
            }
            ObjectNode err = mapper.createObjectNode();
            err.put("type", e.getClass().getSimpleName());
            String message = e.getMessage();
            if (message == null || message.isEmpty()) {
                message = e.toString();
            }
            err.put("message", cut(message));
            if (e instanceof ConductorClientException) {
                // This client's exception exposes the HTTP status (0 when there was none) and
                // parses the server's error body into message/code/instance; it does not expose
                // the raw response body.
                int status = ((ConductorClientException) e).getStatus();
                if (status > 0) {
                    err.put("status", status);
                } else {
                    err.putNull("status");
                }
            } else {
                err.putNull("status");
            }
            err.putNull("body");
            return err;
        }

        ObjectNode document(String language) {
            ObjectNode doc = mapper.createObjectNode();
            ObjectNode driver = doc.putObject("driver");
            driver.put("sdk", SDK);
            driver.put("package", PACKAGE);
            driver.put("version", clientVersion());
            driver.put("language", language);
            doc.set("records", records);
            return doc;
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static String cut(String text) {
        if (text == null) {
            return null;
        }
        return text.length() > BODY_LIMIT ? text.substring(0, BODY_LIMIT) : text;
    }

    static String clientVersion() {
        Properties props = new Properties();
        try (InputStream in = Driver.class.getResourceAsStream("/conductorcompat-driver.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            // fall through to "unknown"
        }
        return props.getProperty("client.version", "unknown");
    }

    // --- workers (the client's own Worker interface, run by TaskRunnerConfigurer) ---

    abstract static class CompatWorker implements Worker {
        private final String taskDefName;

        CompatWorker(String taskDefName) {
            this.taskDefName = taskDefName;
        }

        @Override
        public String getTaskDefName() {
            return taskDefName;
        }

        /** Fixed id: the default looks up the host name (and may ask EC2 metadata). */
        @Override
        public String getIdentity() {
            return WORKER_ID;
        }

        @Override
        public int getPollingInterval() {
            return 100;
        }

        @Override
        public int getBatchPollTimeoutInMS() {
            return 100;
        }

        @Override
        public boolean paused() {
            return false;
        }

        @Override
        public boolean leaseExtendEnabled() {
            return false;
        }
    }

    /** {prefix}_task: y = 2 * x, one task log line "doubled". */
    static final class DoubleWorker extends CompatWorker {
        DoubleWorker(String name) {
            super(name);
        }

        @Override
        public TaskResult execute(Task task) {
            TaskResult result = new TaskResult(task);
            Object x = task.getInputData() == null ? null : task.getInputData().get("x");
            Object y = null;
            if (x instanceof Integer || x instanceof Long) {
                y = ((Number) x).longValue() * 2;
            } else if (x instanceof Number) {
                y = ((Number) x).doubleValue() * 2;
            }
            result.addOutputData("y", y);
            result.log("doubled");
            result.setStatus(TaskResult.Status.COMPLETED);
            return result;
        }
    }

    /** {prefix}_flaky: the first attempt fails with "flaky", the retry completes. */
    static final class FlakyWorker extends CompatWorker {
        FlakyWorker(String name) {
            super(name);
        }

        @Override
        public TaskResult execute(Task task) {
            TaskResult result = new TaskResult(task);
            if (task.getRetryCount() == 0) {
                result.setStatus(TaskResult.Status.FAILED);
                result.setReasonForIncompletion("flaky");
            } else {
                result.setStatus(TaskResult.Status.COMPLETED);
                result.addOutputData("attempt", 2);
            }
            return result;
        }
    }

    /** {prefix}_slow: IN_PROGRESS (callback after 1 s) on its first poll, then done. */
    static final class SlowWorker extends CompatWorker {
        SlowWorker(String name) {
            super(name);
        }

        @Override
        public TaskResult execute(Task task) {
            TaskResult result = new TaskResult(task);
            if (task.getPollCount() <= 1) {
                result.setStatus(TaskResult.Status.IN_PROGRESS);
                result.setCallbackAfterSeconds(1);
            } else {
                result.setStatus(TaskResult.Status.COMPLETED);
                result.addOutputData("done", true);
            }
            return result;
        }
    }

    // --- the script ---

    final String prefix;
    final long timeoutMs;
    final MetadataClient metadata;
    final WorkflowClient workflows;
    final TaskClient tasks;
    final Recorder rec;
    final String nameTask;
    final String nameFlaky;
    final String nameSlow;
    final String nameWf;
    final String nameFailWf;
    TaskRunnerConfigurer runner;

    Driver(String server, String prefix, double timeoutSeconds) {
        this.prefix = prefix;
        this.timeoutMs = (long) (timeoutSeconds * 1000);
        String root = server + "/";
        this.metadata = new MetadataClient(clientConfig());
        this.metadata.setRootURI(root);
        this.workflows = new WorkflowClient(clientConfig());
        this.workflows.setRootURI(root);
        this.tasks = new TaskClient(clientConfig());
        this.tasks.setRootURI(root);
        // The mapper this client (de)serializes its models with (its ObjectMapperProvider).
        // A copy, so that nothing set here reaches a mapper the client itself uses (the 4.x+
        // provider hands out one shared instance).
        ObjectMapper mapper = new ObjectMapperProvider().getObjectMapper().copy();
        mapper.disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
        // Task.getTaskDefinition() returns an Optional: without this module Jackson 2.16+
        // refuses it and Jackson 2.15 writes it as a bean ({"empty":..,"present":..}).
        mapper.registerModule(new Jdk8Module());
        this.rec = new Recorder(mapper);
        this.nameTask = prefix + "_task";
        this.nameFlaky = prefix + "_flaky";
        this.nameSlow = prefix + "_slow";
        this.nameWf = prefix + "_wf";
        this.nameFailWf = prefix + "_fail_wf";
    }

    static ClientConfig clientConfig() {
        ClientConfig config = new DefaultClientConfig();
        config.getProperties().put(ClientConfig.PROPERTY_CONNECT_TIMEOUT, 10_000);
        config.getProperties().put(ClientConfig.PROPERTY_READ_TIMEOUT, 60_000);
        return config;
    }

    // helpers

    Workflow.WorkflowStatus status(String workflowId) {
        Workflow workflow = workflows.getWorkflow(workflowId, false);
        return workflow == null ? null : workflow.getStatus();
    }

    Map<String, Object> statusValue(String workflowId) {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("status", status(workflowId));
        return value;
    }

    /** Polls the workflow (bounded by --timeout) until done(status). */
    Map<String, Object> waitFor(String workflowId, Predicate<Workflow.WorkflowStatus> done)
            throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        Workflow.WorkflowStatus status = null;
        Exception lastError = null;
        while (true) {
            try {
                status = status(workflowId);
                lastError = null;
                if (status != null && done.test(status)) {
                    Map<String, Object> value = new LinkedHashMap<>();
                    value.put("status", status);
                    return value;
                }
            } catch (RuntimeException e) {
                lastError = e;
            }
            if (System.currentTimeMillis() >= deadline) {
                String seen = lastError == null ? "last status " + status : "last error " + lastError;
                throw new Timeout(
                        "workflow " + workflowId + " not done after " + timeoutMs / 1000.0 + "s (" + seen + ")");
            }
            Thread.sleep(POLL_PAUSE_MS);
        }
    }

    /** Polls one task through the task client (bounded by --timeout). */
    Task pollOne(String taskType) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            Task task = tasks.pollTask(taskType, WORKER_ID, null);
            if (task != null && task.getTaskId() != null && !task.getTaskId().isEmpty()) {
                return task;
            }
            if (System.currentTimeMillis() >= deadline) {
                throw new Timeout("no " + taskType + " task polled within " + timeoutMs / 1000.0 + "s");
            }
            Thread.sleep(POLL_PAUSE_MS);
        }
    }

    String start(String name, Map<String, Object> input, String correlationId) {
        StartWorkflowRequest request = new StartWorkflowRequest();
        request.setName(name);
        request.setVersion(1);
        request.setInput(input);
        request.setCorrelationId(correlationId);
        return workflows.startWorkflow(request);
    }

    static TaskDef taskDef(String name, int retryCount) {
        TaskDef def = new TaskDef();
        def.setName(name);
        def.setRetryCount(retryCount);
        def.setTimeoutSeconds(120);
        def.setResponseTimeoutSeconds(60); // below timeoutSeconds, as every server asks
        def.setOwnerEmail(OWNER);
        return def;
    }

    static WorkflowTask simple(String name, String ref, Map<String, Object> input) {
        WorkflowTask task = new WorkflowTask();
        task.setName(name);
        task.setTaskReferenceName(ref);
        task.setType("SIMPLE");
        task.setInputParameters(input);
        return task;
    }

    WorkflowDef workflowDef(String name, List<WorkflowTask> wfTasks) {
        WorkflowDef def = new WorkflowDef();
        def.setName(name);
        def.setVersion(1);
        def.setSchemaVersion(2);
        def.setOwnerEmail(OWNER);
        def.setTimeoutSeconds(300);
        def.setTasks(wfTasks);
        return def;
    }

    void stopWorkers() {
        TaskRunnerConfigurer current = runner;
        runner = null;
        if (current != null) {
            current.shutdown();
        }
    }

    TaskResult update(Task task, TaskResult.Status status) throws Timeout {
        if (task == null) {
            throw new Timeout("no polled task to update");
        }
        TaskResult result = new TaskResult();
        result.setWorkflowInstanceId(task.getWorkflowInstanceId());
        result.setTaskId(task.getTaskId());
        result.setWorkerId(WORKER_ID);
        result.setStatus(status);
        return result;
    }

    // steps

    void metadataSetup() {
        TaskDef flaky = taskDef(nameFlaky, 1);
        flaky.setRetryLogic(TaskDef.RetryLogic.FIXED);
        flaky.setRetryDelaySeconds(0);
        TaskDef slow = taskDef(nameSlow, 0);
        slow.setResponseTimeoutSeconds(30);
        List<TaskDef> defs = List.of(taskDef(nameTask, 0), flaky, slow);
        rec.run("register_task_defs", () -> metadata.registerTaskDefs(defs));
        rec.call("get_task_def", () -> metadata.getTaskDef(nameTask));

        Map<String, Object> t1Input = new HashMap<>();
        t1Input.put("x", "${workflow.input.x}");
        WorkflowDef main =
                workflowDef(
                        nameWf,
                        List.of(
                                simple(nameTask, "t1", t1Input),
                                simple(nameFlaky, "t2", new HashMap<>()),
                                simple(nameSlow, "t3", new HashMap<>())));
        Map<String, Object> output = new HashMap<>();
        output.put("result", "${t1.output.y}");
        main.setOutputParameters(output);
        WorkflowDef fail = workflowDef(nameFailWf, List.of(simple(nameTask, "f1", new HashMap<>())));
        rec.run(
                "register_workflow_def",
                () -> {
                    metadata.registerWorkflowDef(main);
                    metadata.registerWorkflowDef(fail);
                });
        rec.call("get_workflow_def", () -> metadata.getWorkflowDef(nameWf, 1));
    }

    /** Steps 5-10; returns the step-5 workflow id. */
    String runMain() {
        Map<String, Object> input = new HashMap<>();
        input.put("x", 21);
        String wfId = rec.call("start_workflow", () -> start(nameWf, input, prefix + "-c1"));
        rec.notInSdk("start_workflow_sync", "synchronous start/execute call on WorkflowClient");

        rec.call(
                "run_workers",
                () -> {
                    List<Worker> workers =
                            List.of(
                                    new DoubleWorker(nameTask),
                                    new FlakyWorker(nameFlaky),
                                    new SlowWorker(nameSlow));
                    Map<String, Integer> threads = new HashMap<>();
                    for (Worker w : workers) {
                        threads.put(w.getTaskDefName(), 1);
                    }
                    runner =
                            new TaskRunnerConfigurer.Builder(tasks, workers)
                                    .withTaskThreadCount(threads)
                                    .withShutdownGracePeriodSeconds(2)
                                    .withWorkerNamePrefix(prefix + "-worker-%d")
                                    .build();
                    runner.init();
                    if (wfId == null) {
                        throw new Timeout("no workflow to wait for: start_workflow failed");
                    }
                    return waitFor(wfId, TERMINAL::contains);
                });

        String firstTaskId = null;
        String t1TaskId = null;
        if (wfId != null) {
            Workflow workflow = rec.call("get_workflow_with_tasks", () -> workflows.getWorkflow(wfId, true));
            rec.call("get_workflow_without_tasks", () -> workflows.getWorkflow(wfId, false));
            List<Task> wfTasks = workflow == null || workflow.getTasks() == null
                    ? List.of()
                    : workflow.getTasks();
            if (!wfTasks.isEmpty()) {
                firstTaskId = wfTasks.get(0).getTaskId();
            }
            for (Task t : wfTasks) {
                if ("t1".equals(t.getReferenceTaskName())) {
                    t1TaskId = t.getTaskId();
                    break;
                }
            }
        } else {
            rec.skipped("get_workflow_with_tasks", "start_workflow failed");
            rec.skipped("get_workflow_without_tasks", "start_workflow failed");
        }
        rec.run("stop_workers", this::stopWorkers);

        if (firstTaskId != null) {
            String id = firstTaskId;
            rec.call("get_task", () -> tasks.getTaskDetails(id));
        } else {
            rec.skipped("get_task", "no task in the step-5 workflow");
        }
        if (t1TaskId != null) {
            String id = t1TaskId;
            rec.call("get_task_logs", () -> tasks.getTaskLogs(id));
        } else {
            rec.skipped("get_task_logs", "no t1 task in the step-5 workflow");
        }
        rec.call("search", () -> workflows.search(0, 10, null, "*", "workflowType IN (" + nameWf + ")"));
        return wfId;
    }

    /** Step 11; returns the workflow id (removed in step 15). */
    String pauseResume() {
        Map<String, Object> input = new HashMap<>();
        input.put("x", 2);
        String wfId = rec.call("start_for_pause", () -> start(nameWf, input, null));
        if (wfId == null) {
            for (String name :
                    List.of("pause", "get_after_pause", "resume", "get_after_resume", "terminate",
                            "get_after_terminate")) {
                rec.skipped(name, "start_for_pause failed");
            }
            return null;
        }
        rec.run("pause", () -> workflows.pauseWorkflow(wfId));
        rec.call("get_after_pause", () -> statusValue(wfId));
        rec.run("resume", () -> workflows.resumeWorkflow(wfId));
        rec.call("get_after_resume", () -> statusValue(wfId));
        rec.run("terminate", () -> workflows.terminateWorkflow(wfId, "compat"));
        rec.call("get_after_terminate", () -> statusValue(wfId));
        return wfId;
    }

    /** Step 12. */
    void failRetryRerun() {
        String wfId = rec.call("start_fail", () -> start(nameFailWf, new HashMap<>(), null));
        if (wfId == null) {
            for (String name :
                    List.of("poll_task", "update_task", "wait_failed", "retry", "poll_retried",
                            "update_retried", "wait_retried", "rerun", "terminate_rerun")) {
                rec.skipped(name, "start_fail failed");
            }
            return;
        }
        Task task = rec.call("poll_task", () -> pollOne(nameTask));
        rec.run(
                "update_task",
                () -> {
                    TaskResult result = update(task, TaskResult.Status.FAILED);
                    result.setReasonForIncompletion("boom");
                    tasks.updateTask(result);
                });
        rec.call("wait_failed", () -> waitFor(wfId, s -> s == Workflow.WorkflowStatus.FAILED));
        rec.run("retry", () -> workflows.retryLastFailedTask(wfId));
        Task retried = rec.call("poll_retried", () -> pollOne(nameTask));
        rec.run(
                "update_retried",
                () -> {
                    TaskResult result = update(retried, TaskResult.Status.COMPLETED);
                    result.addOutputData("y", 0);
                    tasks.updateTask(result);
                });
        rec.call("wait_retried", () -> waitFor(wfId, TERMINAL::contains));
        RerunWorkflowRequest request = new RerunWorkflowRequest();
        request.setReRunFromWorkflowId(wfId);
        rec.call("rerun", () -> workflows.rerunWorkflow(wfId, request));
        rec.run("terminate_rerun", () -> workflows.terminateWorkflow(wfId, "compat"));
    }

    /** Steps 13-14. */
    void unknowns() {
        rec.call("ack", () -> tasks.ack(ZERO_ID, WORKER_ID));
        rec.call("get_unknown_workflow", () -> workflows.getWorkflow(ZERO_ID, true));
        rec.call("get_unknown_task", () -> tasks.getTaskDetails(ZERO_ID));
    }

    /** Steps 15-16. */
    void cleanup(String pausedId) {
        if (pausedId != null) {
            rec.run("remove", () -> workflows.deleteWorkflow(pausedId, false));
        } else {
            rec.skipped("remove", "start_for_pause failed");
        }
        // This client has no "all workflow defs" call; its listing call returns every
        // workflow def in its latest version (GET metadata/workflow/latest-versions).
        rec.call(
                "get_all_workflow_defs",
                () -> {
                    List<WorkflowDef> all = metadata.getAllWorkflowsWithLatestVersions();
                    List<WorkflowDef> ours = new ArrayList<>();
                    for (WorkflowDef def : all == null ? List.<WorkflowDef>of() : all) {
                        if (def.getName() != null && def.getName().startsWith(prefix)) {
                            ours.add(def);
                        }
                    }
                    return ours;
                });
        for (String name : List.of(nameWf, nameFailWf)) {
            rec.run("unregister_workflow_def", () -> metadata.unregisterWorkflowDef(name, 1));
        }
        for (String name : List.of(nameTask, nameFlaky, nameSlow)) {
            rec.run("unregister_task_def", () -> metadata.unregisterTaskDef(name));
        }
    }

    void play() {
        try {
            metadataSetup();
            runMain();
            String pausedId = pauseResume();
            failRetryRerun();
            unknowns();
            cleanup(pausedId);
        } finally {
            stopWorkers();
        }
    }

    static void write(String path, JsonNode doc, ObjectMapper mapper) throws IOException {
        Path target = Paths.get(path).toAbsolutePath();
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        String text = mapper.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n";
        Files.write(tmp, text.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static int main0(String[] argv) {
        Args args;
        try {
            args = parseArgs(argv);
        } catch (BadArgs e) {
            System.err.println("usage: java -jar driver.jar --server URL/api --prefix P --out FILE.json"
                    + " [--timeout SECONDS]");
            System.err.println("driver: " + e.getMessage());
            return 2;
        }
        // No network but --server: keep any configured proxy out of the way.
        for (String key : List.of("http.proxyHost", "https.proxyHost", "socksProxyHost")) {
            System.clearProperty(key);
        }
        System.setProperty("java.net.useSystemProxies", "false");

        String language = "java " + System.getProperty("java.version");
        Driver driver;
        try {
            driver = new Driver(args.server, args.prefix, args.timeout);
        } catch (RuntimeException e) {
            System.err.println("driver: could not set up the client: " + e);
            return 1;
        }
        int code = 0;
        try {
            driver.play();
        } catch (RuntimeException | Error e) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            System.err.println("driver: could not go on: " + trace);
            code = 1;
        }
        try {
            write(args.out, driver.rec.document(language), driver.rec.mapper);
        } catch (IOException e) {
            System.err.println("driver: could not write " + args.out + ": " + e);
            return 1;
        }
        return code;
    }

    public static void main(String[] argv) {
        int code = main0(argv);
        // The worker framework was shut down in play(); exit explicitly so that no
        // non-daemon thread of a library (HTTP client, metrics) keeps the JVM alive.
        System.exit(code);
    }
}
