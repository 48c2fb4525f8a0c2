#!/bin/bash
# Many serving hosts: scripts/demo-cluster.sh builds network namespaces (a
# PostgreSQL host, three readmit-fcgi hosts on TCP, an nginx balancer, a
# client; all removed at the end) and measures under bounded wrk load. Checked
# here: only in-flight requests fail when a host is killed and none after; the
# host rejoins; every promotion reaches every host with no failed request;
# hosts serve while PostgreSQL is down and follow a promotion after it
# returns; one database connection per host; every throughput run answered.
# No assertion on time.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! ip netns list >/dev/null 2>&1; then
    t_skip_all "needs root and network namespaces"
fi
out=$T_TMP/cluster.txt
# demo-cluster.sh names its namespaces rdm<its pid>-<host>: its pid is $!
READMIT_CLUSTER_SECONDS=2 READMIT_CLUSTER_PROMOTIONS=3 "$TOP/scripts/demo-cluster.sh" >"$out" 2>&1 &
cluster=$! running=$!
t_cluster_cleanup() {
    local rc=$?
    [ -z "$running" ] || kill "$running" 2>/dev/null || true
    return $rc
}
trap 't_cluster_cleanup; t_cleanup' EXIT
if wait "$cluster"; then
    running=
    ok "demo-cluster ran"
else
    running=
    not_ok "demo-cluster failed:"
    tail -n 20 "$out" | sed 's/^/#   /'
fi
grep -v '^RESULT' "$out" | sed 's/^/# /'
# RESULT key=value ... lines -> R_key variables
eval "$(grep '^RESULT' "$out" | sed 's/^RESULT //' | tr ' ' '\n' | grep '^[a-z0-9_]*=[0-9.]*$' | sed 's/^/R_/')"
le() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN {exit !(a <= b)}'; }
gt0() { [ -n "$1" ] && awk -v a="$1" 'BEGIN {exit !(a > 0)}'; }

check "a killed host fails only requests in flight (${R_kill_failed:-?} <= ${R_conns:-?} connections)" le "${R_kill_failed:-}" "${R_conns:-}"
check_eq "no failed request after the kill" 0 "${R_after_failed:-missing}"
check "requests were served after the kill" gt0 "${R_after_requests:-}"
check "the restarted host serves again (${R_rejoin_requests:-?} requests)" gt0 "${R_rejoin_requests:-}"
check_eq "no failed request while it rejoins" 0 "${R_rejoin_failed:-missing}"
check_eq "every promotion reached every host" "${R_promotions:-x}" "${R_promotions_reached:-y}"
check_eq "no failed request during promotions" 0 "${R_promote_failed:-missing}"
check "requests were served during promotions" gt0 "${R_promote_requests:-}"
check_eq "all three hosts answer with PostgreSQL down" 3 "${R_dbdown_answering:-missing}"
check_eq "no failed request while PostgreSQL is down" 0 "${R_dbdown_failed:-missing}"
check_eq "hosts follow a promotion after PostgreSQL returns" 1 "${R_after_db_promote_ok:-missing}"
for h in s1 s2 s3; do
    v=R_$h
    check_eq "serving host $h holds one database connection" 1 "${!v:-missing}"
done
for n in 1 2 3; do
    v=R_rps$n
    check "throughput with $n host(s) measured (${!v:-?} req/s)" gt0 "${!v:-}"
done
# only this run's namespaces (other runs may have theirs up at the same time)
check_eq "the run's namespaces were named for it" "rdm$cluster" "$(sed -n 's/^network: namespaces \(rdm[0-9]*\)-.*/\1/p' "$out")"
check "no namespace of this run left behind" bash -c "! ip netns list | grep -q '^rdm$cluster-'"
t_done
