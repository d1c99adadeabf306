/**
 * The examples users copy (examples/, README "Using it in production"):
 *
 * - compose.yaml: its app (examples/app) is built FROM the image under test
 *   and booted as compose would run it, with the file's environment and
 *   health check: the service is up, the startup script ran, the service
 *   sees the variable, the health check passes and fails when it should,
 *   and a stop fits in the file's stop_grace_period. Then the file itself
 *   runs with the compose tool Debian ships for the engine under test:
 *   docker-compose (1.29) against the Docker Engine, podman-compose (1.0.3)
 *   with podman; what each does with stop_grace_period is checked.
 * - kubernetes.yaml: valid against Kubernetes' schema (npm's
 *   kubernetes-models, run by node), and the image boots on a read-only
 *   root with exactly the file's emptyDir mounts, env and securityContext;
 *   its probe commands pass; terminationGracePeriodSeconds covers my_init's
 *   timeouts. With podman, the file runs under `podman kube play`: the
 *   liveness probe as the health check, a graceful `podman pod stop`, and
 *   `podman kube down`'s immediate kill (podman 4.3).
 */
import assert from "node:assert/strict";
// The `yaml` package of package.json's devDependencies (no YAML parser in
// Deno's standard library offline); plain JavaScript, no dependencies.
import { parse as parseYaml } from "../../node_modules/yaml/browser/index.js";
import {
  Container,
  ENGINE,
  engine,
  engineOk,
  IMAGE,
  retireImage,
  stopTimed,
  uniqueName,
  waitFor,
  withContainer,
} from "./_engine.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const EXAMPLES = `${ROOT}examples/`;
/** The example app as this test builds it (on IMAGE). */
const APP_IMAGE = `${IMAGE.replace(/:[^:/]*$/, "")}-example-test:latest`;

// deno-lint-ignore no-explicit-any
type Yaml = any;

async function readYaml(path: string): Promise<Yaml> {
  return parseYaml(await Deno.readTextFile(path));
}

/** Compose's `${NAME:-default}` and `${NAME}`, from `env`. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_, name: string, fallback?: string) => env[name] || (fallback ?? ""),
  );
}

/** Compose's durations as used here ("30s", "1m30s") in seconds. */
function seconds(duration: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  assert.ok(m && duration !== "", `unsupported duration "${duration}"`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

/**
 * The time the engine must give my_init's shutdown with `env`'s timeouts:
 * its deadline, 2 x KILL_PROCESS_TIMEOUT + KILL_ALL_PROCESSES_TIMEOUT
 * however many shutdown scripts, plus a second for the exit and the
 * engine (README, "Shutdown and timeouts").
 */
function worstShutdown(
  env: Record<string, string>,
): { seconds: number; formula: string } {
  const kill = Number(env.KILL_PROCESS_TIMEOUT ?? 3);
  const killAll = Number(env.KILL_ALL_PROCESSES_TIMEOUT ?? 2);
  return {
    seconds: 2 * kill + killAll + 1,
    formula: `2 x ${kill} + ${killAll} + 1 s`,
  };
}

let built: Promise<void> | undefined;

/**
 * Builds examples/app as compose.yaml's `build:` says (its context and
 * args, BASE_IMAGE being the image under test), once per run; removes the
 * image it replaces so that reruns do not pile up images.
 */
function buildApp(): Promise<void> {
  built ??= (async () => {
    const app = (await readYaml(`${EXAMPLES}compose.yaml`)).services.app;
    const buildArgs = Object.entries(app.build.args as Record<string, string>)
      .flatMap((
        [k, v],
      ) => ["--build-arg", `${k}=${interpolate(v, { BASE_IMAGE: IMAGE })}`]);
    const old = await engine([
      "image",
      "inspect",
      "--format",
      "{{.Id}}",
      APP_IMAGE,
    ]);
    await engineOk([
      "build",
      "-q",
      ...(ENGINE === "podman" ? ["--format", "docker", "--pull=never"] : []),
      // install_clean in the Dockerfile needs the distribution's mirror.
      "--network=host",
      ...buildArgs,
      "-t",
      APP_IMAGE,
      `${EXAMPLES}${app.build.context}`,
    ], { timeoutMs: 600_000 });
    const now = await engineOk([
      "image",
      "inspect",
      "--format",
      "{{.Id}}",
      APP_IMAGE,
    ]);
    if (old.code === 0 && old.stdout.trim() !== now.trim()) {
      await retireImage(old.stdout.trim());
    }
  })();
  return built;
}

/** The greeting the app's CGI script answers with, as its service sees it. */
async function greeting(c: Container): Promise<string> {
  const r = await c.exec([
    "busybox",
    "wget",
    "-q",
    "-O",
    "-",
    "http://127.0.0.1:8080/cgi-bin/hello",
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** The app's httpd process: its user and its own environment. */
async function httpd(c: Container): Promise<{ user: string; env: string[] }> {
  const r = await c.sh(
    "for p in /proc/[0-9]*; do " +
      'if [ "$(tr "\\0" " " 2>/dev/null <$p/cmdline)" = "busybox httpd -f -v -p 8080 -h /srv/app " ]; then ' +
      'echo "${p#/proc/}"; stat -c %U "$p"; fi; done',
  );
  const [pid, user] = r.stdout.trim().split("\n");
  assert.ok(pid && user, `no httpd process: ${r.stdout}${r.stderr}`);
  // As its own user: root in `exec` lacks CAP_SYS_PTRACE for another's.
  const environ = await c.exec(["cat", `/proc/${pid}/environ`], { user });
  assert.equal(environ.code, 0, environ.stderr);
  return { user, env: environ.stdout.split("\0").filter((l) => l !== "") };
}

const STARTED_AT = /\(container started at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/;

Deno.test("examples/compose.yaml: the app builds FROM this project's image, as its build args say", async () => {
  const app = (await readYaml(`${EXAMPLES}compose.yaml`)).services.app;
  const dockerfile = await Deno.readTextFile(`${EXAMPLES}app/Dockerfile`);
  const makefile = await Deno.readTextFile(`${ROOT}Makefile`);
  const version = /^VERSION \?= (\S+)$/m.exec(makefile)?.[1];
  const ours = `baseimage-deno:${version}`;
  // Without BASE_IMAGE set, compose and a plain build both use this
  // project's image at the Makefile's version.
  assert.equal(interpolate(app.build.args.BASE_IMAGE, {}), ours);
  assert.match(dockerfile, new RegExp(`^ARG BASE_IMAGE=${ours}$`, "m"));
  assert.match(dockerfile, /^FROM \$\{BASE_IMAGE\}$/m);
  await buildApp();
});

Deno.test("examples/compose.yaml: the app boots with the file's environment; its service, startup script and health check work; it stops within stop_grace_period", async (t) => {
  const app = (await readYaml(`${EXAMPLES}compose.yaml`)).services.app;
  const env = app.environment as Record<string, string>;
  assert.equal(typeof env.GREETING, "string");
  await buildApp();
  await withContainer("example-compose", [
    "--network=none",
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    APP_IMAGE,
  ], async (c) => {
    await c.waitUntilUp();

    await t.step("the service web runs busybox httpd as www-data", async () => {
      const sv = await c.exec(["sv", "status", "web"]);
      assert.match(sv.stdout, /^run: web: \(pid \d+\)/, sv.stdout + sv.stderr);
      assert.equal((await httpd(c)).user, "www-data");
    });

    await t.step("the startup script ran before the services", async () => {
      const logs = await c.logs();
      const script = logs.indexOf(
        "*** Running /etc/my_init.d/50_app_started...",
      );
      const runit = logs.indexOf("*** Booting runit daemon...");
      assert.ok(script >= 0 && runit > script, logs);
      assert.match(logs, /50_app_started: APP_STARTED_AT=\d{4}-/);
    });

    await t.step(
      "the service sees the file's GREETING, and the startup script's variable",
      async () => {
        assert.ok(
          (await httpd(c)).env.includes(`GREETING=${env.GREETING}`),
        );
        const answer = await greeting(c);
        assert.ok(answer.startsWith(`${env.GREETING} (`), answer);
        assert.match(answer, STARTED_AT);
      },
    );

    await t.step(
      "the health check command passes, and fails with the service down",
      async () => {
        // The container's health check (the image's) is compose's.
        const hc = JSON.parse(
          await c.inspect("{{json .Config.Healthcheck}}"),
        );
        assert.deepEqual(hc.Test, app.healthcheck.test);
        for (
          const [ours, theirs] of [
            ["interval", "Interval"],
            ["timeout", "Timeout"],
            ["start_period", "StartPeriod"],
          ]
        ) {
          assert.equal(hc[theirs] / 1e9, seconds(app.healthcheck[ours]), ours);
        }
        assert.equal(hc.Retries, app.healthcheck.retries);
        const [kind, ...argv] = app.healthcheck.test as string[];
        assert.equal(kind, "CMD");
        const ok = await c.exec(argv);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
        assert.match(ok.stdout, /^ok: web: run$/m);
        if (ENGINE === "podman") {
          // podman runs the image's HEALTHCHECK itself on request.
          const run = await engine(["healthcheck", "run", c.name]);
          assert.equal(run.code, 0, run.stdout + run.stderr);
          assert.equal(await c.inspect("{{.State.Health.Status}}"), "healthy");
        }
        assert.equal((await c.exec(["sv", "down", "web"])).code, 0);
        const down = await c.exec(argv);
        assert.notEqual(down.code, 0, down.stdout);
        assert.match(down.stdout, /^fail: web: down$/m);
        assert.equal((await c.exec(["sv", "up", "web"])).code, 0);
        assert.ok(
          await waitFor(
            async () => (await c.exec(argv)).code === 0,
            15_000,
            250,
          ),
          (await c.exec(argv)).stdout,
        );
      },
    );

    const worst = worstShutdown(env);
    await t.step(
      `stop_grace_period covers the worst case: ${worst.formula}`,
      () => {
        const grace = seconds(app.stop_grace_period);
        assert.ok(grace >= worst.seconds, `${grace} s < ${worst.seconds} s`);
      },
    );

    await t.step(
      "a stop is graceful and within stop_grace_period",
      async () => {
        const { code, elapsed, stopStatus } = await stopTimed(c);
        assert.equal(stopStatus.code, 0, stopStatus.stderr);
        assert.equal(code, 0, await c.logs());
        assert.ok(
          elapsed < seconds(app.stop_grace_period) * 1000,
          `stop took ${elapsed} ms`,
        );
        assert.doesNotMatch(await c.logs(), /Forcing them to exit/);
      },
    );
  });
});

/** The Deployment of kubernetes.yaml and its one container. */
async function deployment(): Promise<
  { doc: Yaml; pod: Yaml; container: Yaml }
> {
  const doc = await readYaml(`${EXAMPLES}kubernetes.yaml`);
  assert.equal(doc.kind, "Deployment");
  const pod = doc.spec.template.spec;
  assert.equal(pod.containers.length, 1);
  return { doc, pod, container: pod.containers[0] };
}

/**
 * Validates a Deployment against Kubernetes' schema with npm's
 * kubernetes-models (package.json; ESM with bare imports, so run by node,
 * which npm brings): "" when valid, else the validator's message.
 */
async function schemaErrors(doc: Yaml): Promise<string> {
  const script =
    'import { Deployment } from "kubernetes-models/apps/v1/Deployment";\n' +
    'let text = ""; for await (const chunk of process.stdin) text += chunk;\n' +
    "try { new Deployment(JSON.parse(text)).validate(); }\n" +
    "catch (e) { console.log(e.message); process.exit(1); }\n";
  const child = new Deno.Command("node", {
    args: ["--input-type=module", "-e", script],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(doc)));
  await w.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  if (out.code === 0) return "";
  return text.trim() || `node exited with status ${out.code}`;
}

Deno.test("examples/kubernetes.yaml is a valid Deployment (Kubernetes' schema), and the schema check rejects a broken one", async () => {
  const { doc, pod, container } = await deployment();
  assert.equal(await schemaErrors(doc), "");
  const broken = structuredClone(doc);
  broken.spec.template.spec.terminationGracePeriodSeconds = "15s";
  broken.spec.template.spec.containers[0].livenessProbe.exec.command =
    "/sbin/my_init --status";
  const errors = await schemaErrors(broken);
  assert.match(errors, /terminationGracePeriodSeconds must be integer/);
  assert.match(errors, /livenessProbe\/exec\/command must be array/);
  // What the README promises of it, which the schema does not check.
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(
    container.volumeMounts.map((m: Yaml) => m.mountPath).sort(),
    ["/run", "/tmp", "/var/log"],
  );
  for (const m of container.volumeMounts) {
    const volume = pod.volumes.find((v: Yaml) => v.name === m.name);
    assert.ok(volume?.emptyDir, `${m.mountPath}: not an emptyDir`);
  }
  const compose = (await readYaml(`${EXAMPLES}compose.yaml`)).services.app;
  assert.equal(container.image, compose.image, "the image compose builds");
});

Deno.test("examples/kubernetes.yaml: read-only with its emptyDir mounts, the app boots, every probe passes, and terminationGracePeriodSeconds covers my_init's timeouts", async (t) => {
  const { pod, container } = await deployment();
  await buildApp();
  const env = Object.fromEntries(
    (container.env as { name: string; value: string }[]).map((
      e,
    ) => [e.name, e.value]),
  );
  const tmpfs = (container.volumeMounts as { mountPath: string }[])
    .flatMap((m) => ["--tmpfs", m.mountPath]);
  const security = container.securityContext;
  await withContainer("example-k8s", [
    "--network=none",
    ...(security.readOnlyRootFilesystem ? ["--read-only"] : []),
    // podman's --read-only adds tmpfs mounts of its own: only the file's.
    ...(ENGINE === "podman" ? ["--read-only-tmpfs=false"] : []),
    ...tmpfs,
    ...(security.allowPrivilegeEscalation === false
      ? ["--security-opt", "no-new-privileges"]
      : []),
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    APP_IMAGE,
  ], async (c) => {
    const startup = container.startupProbe;
    const budgetMs = startup.periodSeconds * startup.failureThreshold * 1000;
    await t.step("the startup probe passes within its budget", async () => {
      const ok = await waitFor(
        async () => (await c.exec(startup.exec.command)).code === 0,
        budgetMs,
        startup.periodSeconds * 1000,
      );
      assert.ok(
        ok,
        (await c.exec(startup.exec.command)).stdout + (await c.logs()),
      );
    });

    await t.step(
      "the root is read-only, and the readiness and liveness probes pass",
      async () => {
        const touch = await c.sh("touch /etc/probe");
        assert.match(touch.stderr, /Read-only file system/);
        for (
          const probe of [container.readinessProbe, container.livenessProbe]
        ) {
          const r = await c.exec(probe.exec.command, {
            timeoutMs: probe.timeoutSeconds * 1000,
          });
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.match(r.stdout, /^ok: web: run$/m);
        }
        assert.ok((await greeting(c)).startsWith(`${env.GREETING} (`));
        const logs = await c.logs();
        assert.doesNotMatch(logs, /failed with status|fatal/, logs);
      },
    );

    const worst = worstShutdown(env);
    const grace = pod.terminationGracePeriodSeconds;

    await t.step(
      `terminationGracePeriodSeconds covers the worst case: ${worst.formula}`,
      () =>
        assert.ok(grace >= worst.seconds, `${grace} s < ${worst.seconds} s`),
    );

    await t.step("a stop with that grace is graceful: exit 0", async () => {
      const started = Date.now();
      const stop = await engine(["stop", "-t", String(grace), c.name], {
        timeoutMs: (grace + 20) * 1000,
      });
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(await c.wait(), 0, await c.logs());
      const elapsed = Date.now() - started;
      assert.ok(elapsed < grace * 1000, `stop took ${elapsed} ms`);
      assert.doesNotMatch(await c.logs(), /Forcing them to exit/);
    });
  });
});

/**
 * Installs Debian's `pkg` when `cmd` is missing, as every install step of
 * the tests does (scripts/apt_install.sh: alone, no daemon started).
 */
async function ensureCommand(cmd: string, pkg: string): Promise<void> {
  const r = await new Deno.Command("bash", {
    args: [
      "-c",
      'command -v "$1" >/dev/null || bash scripts/apt_install.sh --no-start "$2"',
      "ensure",
      cmd,
      pkg,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
}

/**
 * Runs a compose tool (Debian's podman-compose or docker-compose) on
 * examples/compose.yaml and the `overrides` files; never throws on a
 * nonzero exit.
 */
async function compose(
  tool: "podman-compose" | "docker-compose",
  project: string,
  args: string[],
  options: { env?: Record<string, string>; overrides?: string[] } = {},
): Promise<{ code: number; output: string }> {
  const files = [`${EXAMPLES}compose.yaml`, ...options.overrides ?? []]
    .flatMap((f) => ["-f", f]);
  const child = new Deno.Command(tool, {
    args: ["-p", project, ...files, ...args],
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    code: out.code,
    output: dec.decode(out.stdout) + dec.decode(out.stderr),
  };
}

/** The container's health status once it is `want`, or the last one seen. */
async function healthBecomes(
  c: Container,
  want: string,
  timeoutMs: number,
): Promise<string> {
  let last = "";
  await waitFor(
    async () => {
      last = await c.inspect("{{.State.Health.Status}}");
      return last === want;
    },
    timeoutMs,
    500,
  );
  return last;
}

Deno.test("examples/compose.yaml has no top-level name: (Debian's docker-compose 1.29 rejects the file with it)", async () => {
  const file = await readYaml(`${EXAMPLES}compose.yaml`);
  assert.equal(file.name, undefined);
});

// Each compose tool drives its own engine: podman-compose podman only,
// docker-compose the Docker Engine only; each test exists in its half.
if (ENGINE === "podman") {
  Deno.test("examples/compose.yaml with podman-compose: up builds and starts the app, its port answers from the host with the file's GREETING, healthy, stop exits 0; stop_grace_period is not applied (podman's 10 s)", async () => {
    await ensureCommand("podman-compose", "podman-compose");
    const app = (await readYaml(`${EXAMPLES}compose.yaml`)).services.app;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    const project = uniqueName("compose");
    const container = `${project}_app_1`;
    const hadImage = (await engine(["image", "exists", app.image])).code === 0;
    try {
      const up = await compose("podman-compose", project, ["up", "-d"], {
        env: { BASE_IMAGE: IMAGE, APP_PORT: String(port) },
      });
      assert.equal(up.code, 0, up.output.slice(-3000));
      const url = `http://127.0.0.1:${port}/cgi-bin/hello`;
      let answer = "";
      const answered = await waitFor(
        async () => {
          try {
            const res = await fetch(url);
            answer = (await res.text()).trim();
            return res.ok;
          } catch {
            return false;
          }
        },
        30_000,
        250,
      );
      assert.ok(
        answered,
        `${url}: no answer\n${await new Container(container).logs()}`,
      );
      assert.ok(answer.startsWith(`${app.environment.GREETING} (`), answer);
      assert.match(answer, STARTED_AT);
      const c = new Container(container);
      assert.ok(
        await waitFor(
          async () =>
            (await engine(["healthcheck", "run", container])).code === 0,
          15_000,
          500,
        ),
        (await c.exec(["/sbin/my_init", "--status"])).stdout,
      );
      assert.equal(await c.inspect("{{.State.Health.Status}}"), "healthy");
      // podman-compose 1.0.3 passes no stop timeout (nor reads
      // stop_grace_period): podman's default.
      assert.equal(await c.inspect("{{.Config.StopTimeout}}"), "10");
      const stop = await compose("podman-compose", project, ["stop"]);
      assert.equal(stop.code, 0, stop.output);
      assert.equal(await c.inspect("{{.State.ExitCode}}"), "0", await c.logs());
      assert.doesNotMatch(await c.logs(), /Forcing them to exit/);
    } finally {
      await compose("podman-compose", project, ["down"]);
      await engine(["rm", "-f", "-t", "0", container]);
      await engine(["network", "rm", `${project}_default`]);
      if (!hadImage) await retireImage(app.image);
    }
  });
}

if (ENGINE === "docker") {
  Deno.test("examples/compose.yaml with docker-compose: up builds and starts the app with the file's GREETING, the Engine's health check goes healthy, stop_grace_period is the stop timeout, stop exits 0", async () => {
    await ensureCommand("docker-compose", "docker-compose");
    const app = (await readYaml(`${EXAMPLES}compose.yaml`)).services.app;
    const project = uniqueName("compose").replaceAll("-", "");
    const image = `${project}-app:test`;
    const container = `${project}_app_1`;
    // The test Engine has no bridge (image/engine.sh): the build on the
    // host's network, the app on none (its published port then does
    // nothing), under a tag of this run's own.
    const override = await Deno.makeTempFile({ suffix: ".yaml" });
    await Deno.writeTextFile(
      override,
      JSON.stringify({
        services: {
          app: { image, build: { network: "host" }, network_mode: "none" },
        },
      }),
    );
    const files = { overrides: [override] };
    try {
      const up = await compose("docker-compose", project, ["up", "-d"], {
        ...files,
        env: { BASE_IMAGE: IMAGE },
      });
      assert.equal(up.code, 0, up.output.slice(-3000));
      const c = new Container(container);
      await c.waitUntilUp();
      const answer = await greeting(c);
      assert.ok(answer.startsWith(`${app.environment.GREETING} (`), answer);
      assert.match(answer, STARTED_AT);
      assert.equal(
        await c.inspect("{{.HostConfig.RestartPolicy.Name}}"),
        app.restart,
      );
      // The Engine runs the file's check by itself: the first one after
      // `interval` (30 s).
      const health = await healthBecomes(
        c,
        "healthy",
        (seconds(app.healthcheck.interval) + 15) * 1000,
      );
      assert.equal(health, "healthy", await c.logs());
      assert.equal(
        Number(await c.inspect("{{.Config.StopTimeout}}")),
        seconds(app.stop_grace_period),
      );
      const started = Date.now();
      const stop = await compose("docker-compose", project, ["stop"], files);
      assert.equal(stop.code, 0, stop.output);
      assert.equal(await c.wait(), 0, await c.logs());
      assert.ok(Date.now() - started < seconds(app.stop_grace_period) * 1000);
      assert.doesNotMatch(await c.logs(), /Forcing them to exit/);
    } finally {
      await compose("docker-compose", project, ["down"], files);
      await engine(["rm", "-f", container]);
      await retireImage(image);
      await Deno.remove(override).catch(() => {});
    }
  });
}

/**
 * kubernetes.yaml as podman's own reader of Kubernetes YAML takes it: the
 * Deployment under a name of this run's, with the app image this test built,
 * without its containerPort (podman 4.3 refuses port mappings on
 * `--network none`, which keeps the host's network untouched), and with
 * volume names of this run's (podman 4.3 turns each emptyDir into a named
 * volume of the emptyDir's name, shared by every pod that names it).
 */
async function kubeYaml(name: string): Promise<string> {
  const { doc } = await deployment();
  const pod = doc.spec.template.spec;
  doc.metadata.name = name;
  const container = pod.containers[0];
  container.image = APP_IMAGE;
  delete container.ports;
  for (const v of pod.volumes) v.name = `${name}-${v.name}`;
  for (const m of container.volumeMounts) m.name = `${name}-${m.name}`;
  return JSON.stringify(doc);
}

if (ENGINE === "podman") {
  Deno.test("examples/kubernetes.yaml with podman kube play: the web answers, the liveness probe is the health check and restarts the app when it fails, podman pod stop is graceful", async (t) => {
    // The pod's infra container runs catatonit (podman builds its pause
    // image from it: no registry needed).
    await ensureCommand("catatonit", "catatonit");
    const { pod: spec, container: kc } = await deployment();
    await buildApp();
    const name = uniqueName("kube");
    const yamlFile = await Deno.makeTempFile({ suffix: ".yaml" });
    await Deno.writeTextFile(yamlFile, await kubeYaml(name));
    const pod = `${name}-pod-0`;
    const c = new Container(`${pod}-app`);
    try {
      const play = await engine([
        "kube",
        "play",
        "--network",
        "none",
        yamlFile,
      ]);
      assert.equal(play.code, 0, play.stdout + play.stderr);
      await c.waitUntilUp();

      await t.step("the web answers, on a read-only root", async () => {
        const env = Object.fromEntries(
          (kc.env as { name: string; value: string }[]).map((e) => [
            e.name,
            e.value,
          ]),
        );
        assert.ok((await greeting(c)).startsWith(`${env.GREETING} (`));
        assert.equal(await c.inspect("{{.HostConfig.ReadonlyRootfs}}"), "true");
        const touch = await c.sh("touch /etc/probe");
        assert.match(touch.stderr, /Read-only file system/);
      });

      await t.step(
        "the liveness probe is the container's health check",
        async () => {
          const hc = JSON.parse(
            await c.inspect("{{json .Config.Healthcheck}}"),
          );
          const probe = kc.livenessProbe;
          // podman 4.3 makes the argv a shell command: CMD-SHELL, the
          // words, then `|| exit 1`.
          assert.deepEqual(hc.Test, [
            "CMD-SHELL",
            ...probe.exec.command,
            "||",
            "exit",
            "1",
          ]);
          assert.equal(hc.Interval / 1e9, probe.periodSeconds);
          assert.equal(hc.Timeout / 1e9, probe.timeoutSeconds);
          assert.equal(hc.Retries, probe.failureThreshold);
          const ok = await engine(["healthcheck", "run", c.name]);
          assert.equal(ok.code, 0, ok.stdout + ok.stderr);
          assert.equal(await c.inspect("{{.State.Health.Status}}"), "healthy");
        },
      );

      await t.step(
        "with the service down the check fails, and at failureThreshold podman stops the container gracefully, then restarts it or (podman 4.3) stops the pod",
        async () => {
          const probe = kc.livenessProbe;
          const before = await c.inspect("{{.State.StartedAt}}");
          assert.equal((await c.exec(["sv", "down", "web"])).code, 0);
          for (let i = 1; i < probe.failureThreshold; i++) {
            const bad = await engine(["healthcheck", "run", c.name]);
            assert.equal(bad.code, 1, bad.stdout + bad.stderr);
            assert.match(bad.stdout, /unhealthy/);
            assert.equal(
              await c.inspect("{{.State.Health.FailingStreak}}"),
              String(i),
            );
          }
          // Without systemd, podman runs the check only on request: the
          // last one, which restarts the container. podman 4.3 stops it
          // (SIGTERM), and when my_init has ended before podman starts it
          // again, podman sees the pod without a running container and stops
          // the pod instead (measured: the restart then never comes); the
          // pod is started again here, as its restart policy would.
          // It may also do both: restart the app, then stop the pod while
          // the restarted my_init runs its startup scripts (seen once).
          await engine(["healthcheck", "run", c.name]);
          const podStopped = async () =>
            (await c.inspect("{{.State.Running}}")) === "false" &&
            (await engine(["pod", "inspect", "--format", "{{.State}}", pod]))
                .stdout.trim() !== "Running";
          let restarted = false;
          assert.ok(
            await waitFor(async () => {
              if ((await c.inspect("{{.State.StartedAt}}")) !== before) {
                restarted = true;
                return true;
              }
              return await podStopped();
            }, 30_000),
            "neither restarted nor stopped",
          );
          if (restarted) {
            await waitFor(
              async () =>
                (await c.exec(["/sbin/my_init", "--status"])).code === 0 ||
                await podStopped(),
              30_000,
              250,
            );
            if (await podStopped()) {
              // A graceful stop all the same: 0, or phusion's 2 when it came
              // during the start-up scripts.
              const code = await c.wait();
              const logs = await c.logs();
              assert.ok(
                code === 0 ||
                  code === 2 && /\*\*\* Init system aborted\./.test(logs),
                `exit ${code}:\n${logs}`,
              );
              const start = await engine(["pod", "start", pod]);
              assert.equal(start.code, 0, start.stderr);
              console.log("podman restarted the app, then stopped the pod");
            }
          } else {
            assert.equal(await c.wait(), 0, await c.logs());
            const start = await engine(["pod", "start", pod]);
            assert.equal(start.code, 0, start.stderr);
            console.log("podman stopped the pod instead of restarting the app");
          }
          const logs = await c.logs();
          assert.match(logs, /\*\*\* Received SIGTERM; shutting down\.\.\./);
          assert.doesNotMatch(logs, /Forcing them to exit/);
          await c.waitUntilUp();
          assert.equal(await c.inspect("{{.State.Health.Status}}"), "starting");
          assert.ok(
            (await greeting(c)).length > 0,
            "the web answers after the restart",
          );
        },
      );

      await t.step(
        "podman pod stop is graceful (podman 4.3 gives 10 s, not terminationGracePeriodSeconds)",
        async () => {
          assert.equal(await c.inspect("{{.Config.StopTimeout}}"), "10");
          assert.ok(spec.terminationGracePeriodSeconds > 10);
          const started = Date.now();
          const stop = await engine(["pod", "stop", pod], {
            timeoutMs: 60_000,
          });
          assert.equal(stop.code, 0, stop.stderr);
          assert.equal(await c.wait(), 0, await c.logs());
          assert.ok(Date.now() - started < 10_000);
          const logs = await c.logs();
          assert.equal(
            logs.match(/\*\*\* Received SIGTERM; shutting down\.\.\./g)
              ?.length,
            2,
            logs,
          );
          assert.doesNotMatch(logs, /Forcing them to exit/);
        },
      );

      await t.step(
        "podman kube down of a running pod kills it at once (podman 4.3 stops it with a timeout of 0): stop the pod first",
        async () => {
          const start = await engine(["pod", "start", pod]);
          assert.equal(start.code, 0, start.stderr);
          await c.waitUntilUp();
          const events = new Deno.Command("podman", {
            args: [
              "events",
              "--filter",
              `container=${c.name}`,
              "--filter",
              "event=died",
              "--format",
              "{{.ContainerExitCode}}",
            ],
            stdout: "piped",
            stderr: "null",
          }).spawn();
          await new Promise((r) => setTimeout(r, 500));
          const down = await engine(["kube", "down", yamlFile]);
          await new Promise((r) => setTimeout(r, 1_000));
          events.kill("SIGTERM");
          const died = new TextDecoder().decode((await events.output()).stdout)
            .trim();
          assert.equal(down.code, 0, down.stderr);
          assert.equal(died, "137");
        },
      );
    } finally {
      await engine(["kube", "down", yamlFile]);
      await engine(["pod", "rm", "-f", pod]);
      for (const v of ["run", "tmp", "var-log"]) {
        await engine(["volume", "rm", "-f", `${name}-${v}`]);
      }
      await Deno.remove(yamlFile).catch(() => {});
    }
  });
}
