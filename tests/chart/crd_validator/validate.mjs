// Reads a JSON array of Kubernetes objects on stdin and validates each prometheus-operator object
// against the validators generated from the prometheus-operator CRD OpenAPI schemas
// (@kubernetes-models/prometheus-operator). Prints a JSON array of {kind, name, error} results.
// PLANTSERVE_NODE_MODULES must point at .tools/node/node_modules (installed by scripts/install-tools.sh).
import { createRequire } from "node:module";
import path from "node:path";

const modules = process.env.PLANTSERVE_NODE_MODULES;
const require = createRequire(path.join(modules, "noop.js"));
const base = path.dirname(require.resolve("@kubernetes-models/prometheus-operator/package.json"));
const kinds = {
  ServiceMonitor: "monitoring.coreos.com/v1/ServiceMonitor.js",
  PrometheusRule: "monitoring.coreos.com/v1/PrometheusRule.js",
  PodMonitor: "monitoring.coreos.com/v1/PodMonitor.js",
};

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const obj of JSON.parse(input)) {
  const file = kinds[obj.kind];
  if (!file || obj.apiVersion !== "monitoring.coreos.com/v1") {
    results.push({ kind: obj.kind, name: obj.metadata?.name, error: `no CRD validator for ${obj.apiVersion} ${obj.kind}` });
    continue;
  }
  const mod = await import(path.join(base, file));
  try {
    new mod[obj.kind](obj).validate();
    results.push({ kind: obj.kind, name: obj.metadata.name, error: null });
  } catch (e) {
    results.push({ kind: obj.kind, name: obj.metadata?.name, error: String(e.message || e) });
  }
}
process.stdout.write(JSON.stringify(results));
