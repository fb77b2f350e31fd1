package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// probe asks a component's health endpoint, trusting the cluster's CA.
type probe struct{ client *http.Client }

func newProbe(pkiDir string) probe {
	return probe{client: httpClient(filepath.Join(pkiDir, "ca.crt"), 2*time.Second)}
}

func (p probe) ok(ctx context.Context, url, bearer string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return true, nil
}

func httpClient(caFile string, timeout time.Duration) *http.Client {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(caFile); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool},
			MaxIdleConnsPerHost: 64,
		},
	}
}

// api is the little of the Kubernetes API that bringing a cluster up needs.
type api struct {
	server, token string
	client        *http.Client
}

func newAPI(server, token, caFile string) *api {
	return &api{server: server, token: token, client: httpClient(caFile, 30*time.Second)}
}

func (a *api) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.server+path, reader)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "toolbox-localcluster")
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func (a *api) exists(ctx context.Context, path string) (bool, error) {
	status, body, err := a.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return false, err
	}
	if status != http.StatusOK {
		return false, fmt.Errorf("GET %s: %d %s", path, status, body)
	}
	return true, nil
}

var (
	zones         = []string{"local-1a", "local-1b", "local-1c"}
	instanceTypes = []string{"m7i.large", "m7i.xlarge", "c7i.2xlarge", "r7i.xlarge"}
)

// NodeName names simulated node i (1-based) so that names sort in creation order.
func NodeName(i int) string { return fmt.Sprintf("node-%04d", i) }

// simulatedNode is a Node as a kubelet would register it. Its InternalIP is a
// distinct loopback address: the apiserver dials it to reach kwok for exec.
func simulatedNode(i int, version string) map[string]any {
	name := NodeName(i)
	ip := fmt.Sprintf("127.%d.%d.%d", 1+i/65536, (i/256)%256, i%256)
	zone := zones[i%len(zones)]
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Node",
		"metadata": map[string]any{
			"name": name,
			"labels": map[string]string{
				"kubernetes.io/hostname":           name,
				"kubernetes.io/os":                 "linux",
				"kubernetes.io/arch":               "amd64",
				"beta.kubernetes.io/os":            "linux",
				"beta.kubernetes.io/arch":          "amd64",
				"node-role.kubernetes.io/worker":   "",
				"topology.kubernetes.io/region":    "local-1",
				"topology.kubernetes.io/zone":      zone,
				"node.kubernetes.io/instance-type": instanceTypes[i%len(instanceTypes)],
				"type":                             "kwok",
			},
			"annotations": map[string]string{
				"kwok.x-k8s.io/node":                                     "fake",
				"node.alpha.kubernetes.io/ttl":                           "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
			},
		},
		"status": map[string]any{
			"addresses": []map[string]string{
				{"type": "InternalIP", "address": ip},
				{"type": "Hostname", "address": name},
			},
			"capacity":    map[string]string{"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"},
			"allocatable": map[string]string{"cpu": "7910m", "memory": "31Gi", "pods": "110", "ephemeral-storage": "95Gi"},
			"nodeInfo": map[string]string{
				"architecture":            "amd64",
				"operatingSystem":         "linux",
				"osImage":                 "Debian GNU/Linux 13 (trixie)",
				"kernelVersion":           "6.12.0-kwok",
				"containerRuntimeVersion": "containerd://2.1.0",
				"kubeletVersion":          version,
				"machineID":               fmt.Sprintf("%032x", i),
				"systemUUID":              fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
				"bootID":                  fmt.Sprintf("%08x-0000-4000-8000-%012x", i+1, i),
			},
		},
	}
}

// createNodes registers the simulated nodes concurrently; an existing node is fine.
func (a *api) createNodes(ctx context.Context, count int, version string) error {
	const workers = 32
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				status, body, err := a.do(ctx, http.MethodPost, "/api/v1/nodes", simulatedNode(i, version))
				if err == nil && status != http.StatusCreated && status != http.StatusConflict {
					err = fmt.Errorf("node %s: %d %s", NodeName(i), status, body)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
feed:
	for i := 1; i <= count; i++ {
		select {
		case jobs <- i:
		case err := <-errs:
			close(jobs)
			wg.Wait()
			return err
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// nodeReady reports whether the named node has Ready=True.
func (a *api) nodeReady(ctx context.Context, name string) (bool, error) {
	status, body, err := a.do(ctx, http.MethodGet, "/api/v1/nodes/"+name, nil)
	if err != nil {
		return false, err
	}
	if status != http.StatusOK {
		return false, fmt.Errorf("node %s: %d", name, status)
	}
	var node struct {
		Status struct {
			Conditions []struct{ Type, Status, Message string }
		}
	}
	if err := json.Unmarshal(body, &node); err != nil {
		return false, err
	}
	for _, cond := range node.Status.Conditions {
		if cond.Type == "Ready" {
			if cond.Status == "True" {
				return true, nil
			}
			return false, fmt.Errorf("node %s is not Ready: %s", name, cond.Message)
		}
	}
	return false, fmt.Errorf("node %s has no Ready condition yet", name)
}

// allNodesReady reports whether at least want nodes have Ready=True, reading
// from the apiserver's cache.
func (a *api) allNodesReady(ctx context.Context, want int) (bool, error) {
	status, body, err := a.do(ctx, http.MethodGet, "/api/v1/nodes?resourceVersion=0", nil)
	if err != nil {
		return false, err
	}
	if status != http.StatusOK {
		return false, fmt.Errorf("listing nodes: %d", status)
	}
	var list struct {
		Items []struct {
			Status struct {
				Conditions []struct{ Type, Status string }
			}
		}
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return false, err
	}
	ready := 0
	for _, node := range list.Items {
		for _, cond := range node.Status.Conditions {
			if cond.Type == "Ready" && cond.Status == "True" {
				ready++
			}
		}
	}
	if ready < want {
		return false, errors.New(fmt.Sprint(ready, " of ", want, " nodes Ready"))
	}
	return true, nil
}
