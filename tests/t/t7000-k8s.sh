#!/bin/bash
# Kubernetes manifests, checked offline (no cluster is available here):
# `kubectl kustomize` renders the dev and prod overlays; every rendered object
# validates against the Kubernetes API schemas and the project's rules
# (tests/k8s/validate.mjs, packages pinned in tests/k8s/package-lock.json and
# installed with `npm ci`); the validator rejects manifests that break each
# rule; the overlays differ where they should.
. "$(dirname "$0")/lib.sh"
K8S=$TOP/deploy/k8s
VAL=$TOP/tests/k8s
KUBECTL=${KUBECTL:-$(command -v kubectl || echo /usr/bin/kubectl)}

if ! [ -x "$KUBECTL" ] || ! command -v node >/dev/null; then
    not_ok "kubectl and node are needed (kubectl: $KUBECTL)"
    t_done
fi
# the validator's packages, exactly as locked (re-installed when the lock changes)
if ! cmp -s "$VAL/package-lock.json" "$VAL/node_modules/.package-lock.stamp" 2>/dev/null; then
    if (cd "$VAL" && npm ci --no-audit --no-fund --loglevel=error >"$T_TMP/npm.log" 2>&1); then
        cp "$VAL/package-lock.json" "$VAL/node_modules/.package-lock.stamp"
    else
        cat "$T_TMP/npm.log"
    fi
fi
check "validator packages installed (npm ci)" test -f "$VAL/node_modules/.package-lock.stamp"

render() { "$KUBECTL" kustomize --load-restrictor LoadRestrictionsNone "$K8S/overlays/$1"; }
validate() { node "$VAL/validate.mjs" "$@"; }

for o in dev prod; do
    if render "$o" >"$T_TMP/$o.yaml" 2>"$T_TMP/$o.err"; then
        ok "kustomize renders overlay $o ($(grep -c '^kind:' "$T_TMP/$o.yaml") objects)"
    else
        not_ok "kustomize renders overlay $o: $(head -3 "$T_TMP/$o.err")"
        continue
    fi
    if validate "$T_TMP/$o.yaml" >"$T_TMP/$o.val" 2>&1; then
        ok "overlay $o: $(tail -1 "$T_TMP/$o.val")"
    else
        not_ok "overlay $o fails validation:"
        sed 's/^/#   /' "$T_TMP/$o.val"
    fi
done

# what each overlay must and must not contain
kinds() { grep '^kind:' "$T_TMP/$1.yaml" | sort | uniq -c | awk '{print $3 "=" $1}' | tr '\n' ' '; }
has_kind() { grep -qx "kind: $2" "$T_TMP/$1.yaml"; }
for k in Deployment Service Ingress HorizontalPodAutoscaler PodDisruptionBudget ConfigMap CronJob; do
    check "both overlays have a $k" bash -c "grep -qx 'kind: $k' '$T_TMP/dev.yaml' && grep -qx 'kind: $k' '$T_TMP/prod.yaml'"
done
check "dev runs PostgreSQL as a StatefulSet" has_kind dev StatefulSet
check "prod has no StatefulSet (an existing server)" bash -c "! grep -qx 'kind: StatefulSet' '$T_TMP/prod.yaml'"
check "prod carries no Secret (created out of band)" bash -c "! grep -qx 'kind: Secret' '$T_TMP/prod.yaml'"
check "DATABASE_URL comes from the Secret" grep -q 'name: readmit-database' "$T_TMP/prod.yaml"
check "liveness on /healthz, readiness on /readyz" bash -c "grep -A3 livenessProbe '$T_TMP/prod.yaml' | grep -q 'path: /healthz' && grep -A3 readinessProbe '$T_TMP/prod.yaml' | grep -q 'path: /readyz'"
check "the pipeline CronJob runs make" grep -q '\- make' "$T_TMP/prod.yaml"
check "Prometheus scrape configuration rendered" grep -q 'job_name: readmit' "$T_TMP/prod.yaml"
# the ConfigMap carries conf/readmit.yaml unchanged
node -e '
const {parseAllDocuments} = require(process.argv[1] + "/node_modules/yaml");
const fs = require("fs");
const cm = parseAllDocuments(fs.readFileSync(process.argv[2], "utf8")).map(d => d.toJS())
  .find(o => o.kind === "ConfigMap" && o.metadata.name.startsWith("readmit-config"));
process.stdout.write(cm ? cm.data["readmit.yaml"] : "");' "$VAL" "$T_TMP/prod.yaml" >"$T_TMP/cm.yaml"
check "the ConfigMap is conf/readmit.yaml" cmp -s "$T_TMP/cm.yaml" "$TOP/conf/readmit.yaml"

# the validator must reject each kind of mistake: break the rendered prod set
# one way at a time
break_with() { # description sed-expression expected-message
    sed -e "$2" "$T_TMP/prod.yaml" >"$T_TMP/broken.yaml"
    if cmp -s "$T_TMP/broken.yaml" "$T_TMP/prod.yaml"; then
        not_ok "rejects $1 (the edit changed nothing)"
    elif validate "$T_TMP/broken.yaml" >"$T_TMP/broken.val" 2>&1; then
        not_ok "rejects $1 (it passed)"
    elif grep -q -- "$3" "$T_TMP/broken.val"; then
        ok "rejects $1"
    else
        not_ok "rejects $1 (wrong message: $(head -2 "$T_TMP/broken.val"))"
    fi
}
break_with "a wrong type (schema)" 's/^  replicas: 3$/  replicas: three/' 'must be integer'
break_with "a missing required field (schema)" '/^  selector:$/,/^  strategy:$/{/^  selector:$/d;/^    matchLabels:$/d;/^      app.kubernetes.io\/component: serve$/d;/^      app.kubernetes.io\/name: readmit$/d}' 'must have required property selector'
break_with "an unknown kind" 's/^kind: PodDisruptionBudget$/kind: PodDisruptionBudgett/' 'no API schema'
break_with "a latest tag" '0,/readmit:0.1.0/s/readmit:0.1.0/readmit:latest/' 'is not pinned'
break_with "an untagged image" '0,/readmit:0.1.0/s/readmit:0.1.0/readmit/' 'is not pinned'
break_with "a container without a memory limit" '0,/memory: 256Mi/s/memory: 256Mi/storage: 1Gi/' 'no memory limits'
break_with "an HPA without a floor" 's/^  minReplicas: 3$/  minReplicas: 1/' 'minReplicas 1'
break_with "an unbounded HPA" 's/^  maxReplicas: 20$/  maxReplicas: 500/' 'maxReplicas 500'
break_with "overlapping pipeline runs" 's/concurrencyPolicy: Forbid/concurrencyPolicy: Allow/' 'not Forbid'
break_with "a missing readiness probe" 's/readinessProbe:/readinessProbeX:/' 'no readinessProbe'
break_with "a writable root filesystem" '0,/readOnlyRootFilesystem: true/s//readOnlyRootFilesystem: false/' 'not read-only'
break_with "a root pod" '0,/runAsNonRoot: true/s//runAsNonRoot: false/' 'runAsNonRoot'
break_with "a literal database URL" 's/- name: READMIT_ACCESS_LOG/- name: DATABASE_URL/' 'not from a Secret'
t_done
