#!/usr/bin/env bash
# Test hosts on one machine: network namespaces joined by veth pairs to a bridge that lives in
# a namespace of its own, so nothing touches the machine's real interfaces. Addresses come
# from the documentation range 198.51.100.0/24; multicast stays inside.
#
#   scripts/hosts.sh up TAG [HOST...]   hosts TAG-a, TAG-b, TAG-c (or those named), switch TAG-sw
#   scripts/hosts.sh addr HOST          the address of host HOST (a=198.51.100.1, b=.2, ...)
#   scripts/hosts.sh run TAG HOST CMD.. run CMD inside host HOST
#   scripts/hosts.sh netem TAG HOST ARGS..  tc netem on HOST's link (e.g. delay 50ms loss 1%)
#   scripts/hosts.sh cut TAG HOST       disconnect HOST from the switch (a partition)
#   scripts/hosts.sh join TAG HOST      connect it again
#   scripts/hosts.sh down TAG           kill every process in TAG's hosts, delete them
#   scripts/hosts.sh gc                 remove hosts left by test runs whose process is gone
#
# Needs root (or CAP_NET_ADMIN) and iproute2. A TAG of the form micro-<pid>-<n> lets `gc` tell
# leftovers of a killed run from hosts in use.
set -euo pipefail

usage() { sed -n '2,16p' "$0" >&2; exit 2; }

addr() {
    local host=$1 index
    index=$(( $(printf '%d' "'$host") - 96 ))
    if [ "$index" -lt 1 ] || [ "$index" -gt 26 ]; then
        echo "hosts.sh: host names are single letters a-z, not $host" >&2
        exit 2
    fi
    echo "198.51.100.$index"
}

up() {
    local tag=$1; shift
    local hosts=("$@")
    [ ${#hosts[@]} -gt 0 ] || hosts=(a b c)
    local sw="$tag-sw"
    ip netns add "$sw"
    ip -n "$sw" link set lo up
    ip -n "$sw" link add br0 type bridge
    # Snooping would hold back multicast until a querier shows up: flood it instead.
    ip -n "$sw" link set br0 type bridge mcast_snooping 0
    ip -n "$sw" link set br0 up
    for host in "${hosts[@]}"; do
        local ns="$tag-$host" ip
        ip=$(addr "$host")
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        ip -n "$sw" link add "p-$host" type veth peer name eth0 netns "$ns"
        ip -n "$sw" link set "p-$host" master br0
        ip -n "$sw" link set "p-$host" up
        ip -n "$ns" addr add "$ip/24" dev eth0
        ip -n "$ns" link set eth0 up
        # Multicast (mDNS) leaves through eth0.
        ip -n "$ns" route add 224.0.0.0/4 dev eth0
    done
}

down() {
    local tag=$1 ns
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^$tag-[a-z]+$" || true); do
        local pids
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
    done
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^$tag-[a-z]+$" || true); do
        ip netns delete "$ns" 2>/dev/null || true
    done
}

gc() {
    local tag
    for tag in $(ip netns list | awk '{print $1}' | sed -n 's/^\(micro-[0-9]*-[0-9]*\)-[a-z]*$/\1/p' | sort -u); do
        local pid=${tag#micro-}; pid=${pid%%-*}
        kill -0 "$pid" 2>/dev/null || down "$tag"
    done
}

[ $# -ge 1 ] || usage
command=$1; shift
case "$command" in
    up) [ $# -ge 1 ] || usage; up "$@" ;;
    addr) [ $# -eq 1 ] || usage; addr "$1" ;;
    run) [ $# -ge 3 ] || usage; tag=$1 host=$2; shift 2; exec ip netns exec "$tag-$host" "$@" ;;
    netem) [ $# -ge 3 ] || usage; tag=$1 host=$2; shift 2
        ip -n "$tag-$host" link set eth0 up
        tc -n "$tag-$host" qdisc replace dev eth0 root netem "$@" ;;
    cut) [ $# -eq 2 ] || usage; ip -n "$1-sw" link set "p-$2" down ;;
    join) [ $# -eq 2 ] || usage; ip -n "$1-sw" link set "p-$2" up ;;
    down) [ $# -eq 1 ] || usage; down "$1" ;;
    gc) gc ;;
    *) usage ;;
esac
