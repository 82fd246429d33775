#!/bin/bash
# Delete every namespace created by build.sh (by name). Deleting a namespace
# destroys the veth/bridge/vxlan devices inside it.
for ns in p1 p2 p3 pscratch n1 n2 gw sw; do
    ip netns del nlref-$ns 2>/dev/null
done
ip netns list | grep nlref- || echo "no nlref- namespaces left"
