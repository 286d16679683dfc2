// Command pause is the test node's pod sandbox process (what registry.k8s.io/pause is on a
// real cluster): it holds the pod's namespaces, reaps orphans when it is PID 1 of a shared
// PID namespace, and exits on SIGINT or SIGTERM. Built static (CGO_ENABLED=0) and packed
// into an OCI image by testenv/build-node.sh, because the test node has no registry to pull
// the upstream image from.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			return
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
