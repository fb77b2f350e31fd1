package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki holds the file paths of everything the control plane authenticates with.
type pki struct {
	caCert, caKey             string
	servingCert, servingKey   string
	kubeletCert, kubeletKey   string // kwok's serving pair, dialled by the apiserver
	clientCert, clientKey     string // the apiserver's client pair towards kwok
	saPublicKey, saPrivateKey string
	tokenFile                 string
}

type token struct {
	user, uid, groups string
	value             string
}

func newPKI(dir string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &pki{
		caCert: filepath.Join(dir, "ca.crt"), caKey: filepath.Join(dir, "ca.key"),
		servingCert: filepath.Join(dir, "apiserver.crt"), servingKey: filepath.Join(dir, "apiserver.key"),
		kubeletCert: filepath.Join(dir, "kwok.crt"), kubeletKey: filepath.Join(dir, "kwok.key"),
		clientCert: filepath.Join(dir, "apiserver-kubelet-client.crt"), clientKey: filepath.Join(dir, "apiserver-kubelet-client.key"),
		saPublicKey: filepath.Join(dir, "sa.pub"), saPrivateKey: filepath.Join(dir, "sa.key"),
		tokenFile: filepath.Join(dir, "tokens.csv"),
	}

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "toolbox-local-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	if err := writeCert(p.caCert, caDER); err != nil {
		return nil, err
	}
	if err := writeECKey(p.caKey, caKey); err != nil {
		return nil, err
	}

	loopback := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	leaves := []struct {
		cert, key string
		cn        string
		org       []string
		usage     x509.ExtKeyUsage
		ips       []net.IP
		dns       []string
	}{
		{p.servingCert, p.servingKey, "kube-apiserver", nil, x509.ExtKeyUsageServerAuth, append(loopback, net.ParseIP("10.96.0.1")),
			[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}},
		{p.kubeletCert, p.kubeletKey, "kwok", nil, x509.ExtKeyUsageServerAuth, loopback, []string{"localhost"}},
		{p.clientCert, p.clientKey, "kube-apiserver-kubelet-client", []string{"system:masters"}, x509.ExtKeyUsageClientAuth, nil, nil},
	}
	for i, leaf := range leaves {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		template := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 2)),
			Subject:      pkix.Name{CommonName: leaf.cn, Organization: leaf.org},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(365 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:  []x509.ExtKeyUsage{leaf.usage},
			IPAddresses:  leaf.ips,
			DNSNames:     leaf.dns,
		}
		der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, err
		}
		if err := writeCert(leaf.cert, der); err != nil {
			return nil, err
		}
		if err := writeECKey(leaf.key, key); err != nil {
			return nil, err
		}
	}

	// Service-account tokens are signed with RSA, which every verifier accepts.
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if err := writePEM(p.saPrivateKey, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey)); err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := writePEM(p.saPublicKey, "PUBLIC KEY", pub); err != nil {
		return nil, err
	}
	return p, nil
}

// newTokens writes the static token file: an admin, the unprivileged user
// "dev" that tests grant exactly what they need, and one identity for each
// component so that the audit policy can leave their traffic out.
func (p *pki) newTokens() (map[string]token, error) {
	tokens := map[string]token{
		"admin":                          {user: "admin", uid: "admin", groups: "system:masters"},
		"dev":                            {user: "dev", uid: "dev"},
		"kwok":                           {user: "kwok", uid: "kwok", groups: "system:masters"},
		"system:kube-controller-manager": {user: "system:kube-controller-manager", uid: "kcm", groups: "system:masters"},
		"system:kube-scheduler":          {user: "system:kube-scheduler", uid: "scheduler", groups: "system:masters"},
		// The real node's kubelet, which the Node authorizer keeps to its own node.
		"system:node:" + RealNodeName: {user: "system:node:" + RealNodeName, uid: "kubelet", groups: "system:nodes"},
	}
	var lines []byte
	for name, t := range tokens {
		buf := make([]byte, 24)
		if _, err := rand.Read(buf); err != nil {
			return nil, err
		}
		t.value = hex.EncodeToString(buf)
		tokens[name] = t
		lines = fmt.Appendf(lines, "%s,%s,%s,%q\n", t.value, t.user, t.uid, t.groups)
	}
	return tokens, os.WriteFile(p.tokenFile, lines, 0o600)
}

func writeCert(path string, der []byte) error { return writePEM(path, "CERTIFICATE", der) }

func writeECKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "EC PRIVATE KEY", der)
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}
