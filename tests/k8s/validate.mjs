// validate.mjs - check rendered Kubernetes manifests offline.
//
//   node validate.mjs FILE...   (multi-document YAML, as `kubectl kustomize` prints)
//
// 1. every object validates against the Kubernetes API schemas of its
//    apiVersion/kind (kubernetes-models: the OpenAPI schemas compiled to
//    validators; types, required fields, enums, formats; an unknown kind fails);
// 2. the project's rules: requests and limits for cpu and memory on every
//    container, probes on serving containers, pinned image tags (no `latest`,
//    no untagged image), non-root pods, no privilege escalation, HPA bounds,
//    CronJobs that never overlap, secrets only by reference.
// Prints one line per problem and a summary; exits 1 when anything failed.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const problems = [];
const fail = (obj, msg) =>
  problems.push(`${obj?.kind ?? "?"}/${obj?.metadata?.name ?? "?"}: ${msg}`);

async function schemaCheck(obj) {
  const [group, version] = obj.apiVersion.includes("/")
    ? obj.apiVersion.split("/")
    : ["", obj.apiVersion];
  const path = `kubernetes-models/${group ? group + "/" : ""}${version}/${obj.kind}`;
  let mod;
  try {
    mod = await import(path);
  } catch {
    fail(obj, `no API schema for ${obj.apiVersion} ${obj.kind}`);
    return;
  }
  try {
    new mod[obj.kind](obj).validate();
  } catch (e) {
    fail(obj, `schema: ${e.message}`);
  }
}

function podSpecOf(obj) {
  switch (obj.kind) {
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return obj.spec?.template?.spec;
    case "CronJob":
      return obj.spec?.jobTemplate?.spec?.template?.spec;
    case "Pod":
      return obj.spec;
    default:
      return null;
  }
}

function imagePinned(image) {
  if (!image) return false;
  if (image.includes("@sha256:")) return true;
  const last = image.split("/").pop();
  const i = last.lastIndexOf(":");
  return i > 0 && last.slice(i + 1) !== "latest" && last.slice(i + 1) !== "";
}

function podRules(obj, spec) {
  const psc = spec.securityContext ?? {};
  if (psc.runAsNonRoot !== true) fail(obj, "pod securityContext.runAsNonRoot is not true");
  const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  for (const c of all) {
    const where = `container ${c.name}`;
    for (const kind of ["requests", "limits"])
      for (const res of ["cpu", "memory"])
        if (c.resources?.[kind]?.[res] === undefined)
          fail(obj, `${where}: no ${res} ${kind}`);
    if (!imagePinned(c.image)) fail(obj, `${where}: image '${c.image}' is not pinned to a tag`);
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false)
      fail(obj, `${where}: allowPrivilegeEscalation is not false`);
    if (sc.readOnlyRootFilesystem !== true)
      fail(obj, `${where}: root filesystem is not read-only`);
    if (sc.privileged) fail(obj, `${where}: privileged`);
    for (const e of c.env ?? [])
      if (/PASSWORD|DATABASE_URL|SECRET/i.test(e.name) && e.value !== undefined)
        fail(obj, `${where}: ${e.name} given as a literal value, not from a Secret`);
  }
  // long-running workloads must be probed; jobs run to completion
  if (obj.kind !== "CronJob" && obj.kind !== "Job") {
    const probed = (spec.containers ?? []).filter((c) => c.ports?.length);
    if (!probed.length) fail(obj, "no container exposes a port to probe");
    for (const c of probed)
      for (const p of ["startupProbe", "livenessProbe", "readinessProbe"])
        if (!c[p]) fail(obj, `container ${c.name}: no ${p}`);
  }
}

function objectRules(obj, all) {
  const spec = podSpecOf(obj);
  if (spec) podRules(obj, spec);
  if (obj.kind === "CronJob" && obj.spec?.concurrencyPolicy !== "Forbid")
    fail(obj, "concurrencyPolicy is not Forbid");
  if (obj.kind === "HorizontalPodAutoscaler") {
    const { minReplicas: lo, maxReplicas: hi } = obj.spec ?? {};
    if (!(Number.isInteger(lo) && lo >= 2)) fail(obj, `minReplicas ${lo}: must be at least 2`);
    if (!(Number.isInteger(hi) && hi >= lo && hi <= 50))
      fail(obj, `maxReplicas ${hi}: must be within [minReplicas, 50]`);
    const t = obj.spec?.scaleTargetRef;
    if (!all.some((o) => o.kind === t?.kind && o.metadata?.name === t?.name))
      fail(obj, `scale target ${t?.kind}/${t?.name} is not in the rendered set`);
  }
  if (obj.kind === "Deployment") {
    const labels = obj.spec?.template?.metadata?.labels ?? {};
    const covered = all.some(
      (o) =>
        o.kind === "PodDisruptionBudget" &&
        Object.entries(o.spec?.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
    );
    if (!covered) fail(obj, "no PodDisruptionBudget selects its pods");
  }
}

const docs = [];
for (const file of process.argv.slice(2)) {
  for (const d of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (d.errors.length) {
      problems.push(`${file}: YAML: ${d.errors[0].message}`);
      continue;
    }
    const obj = d.toJS();
    if (obj) docs.push(obj);
  }
}
if (!docs.length) problems.push("no objects to validate");
for (const obj of docs) {
  if (!obj.apiVersion || !obj.kind) {
    fail(obj, "no apiVersion or kind");
    continue;
  }
  // kustomize wraps long base64 values; the API server's decoder skips newlines
  if (obj.kind === "Secret" && obj.data)
    for (const k of Object.keys(obj.data)) obj.data[k] = String(obj.data[k]).replace(/\s+/g, "");
  await schemaCheck(obj);
  objectRules(obj, docs);
}
for (const p of problems) console.log(`invalid: ${p}`);
const kinds = [...new Set(docs.map((o) => o.kind))].sort().join(", ");
console.log(`k8s: ${docs.length} objects (${kinds}), ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
