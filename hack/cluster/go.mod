// localcluster starts and stops the local test cluster: etcd, kube-apiserver,
// kube-controller-manager, kwok and a node agent on loopback. It uses the standard
// library, plus the kubelet streaming library for its exec server.
module toolbox.test/hack/cluster

go 1.26.0

require (
	github.com/creack/pty v1.1.24
	k8s.io/cri-streaming v0.37.2
	k8s.io/utils v0.0.0-20261023123148-ca04ba58ecab
)

require (
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/moby/spdystream v0.5.1 // indirect
	golang.org/x/net v0.57.0 // indirect
	k8s.io/klog/v2 v2.140.0 // indirect
	k8s.io/streaming v0.37.2 // indirect
)
