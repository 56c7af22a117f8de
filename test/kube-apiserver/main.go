// Command kube-apiserver is Portcullis's test harness: a real kube-apiserver
// (the published k8s.io/kubernetes code, not a fake) backed by an embedded
// etcd, started on loopback with throwaway credentials for the identities the
// integration tests use. It prints one JSON line on stdout once the server is
// ready and stops on SIGINT, SIGTERM or when its stdin closes.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	basecompatibility "k8s.io/component-base/compatibility"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"

	// Registrations the upstream kube-apiserver main package makes.
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
)

// identity is one static-token user the harness writes a kubeconfig for.
type identity struct {
	name   string // kubeconfig key in the ready line
	user   string
	groups []string
}

// The controller identity is a static token carrying the exact username and
// groups a real ServiceAccount token would have, so RBAC bindings to the
// ServiceAccount subject match it without needing kube-controller-manager.
var identities = []identity{
	{name: "admin", user: "portcullis-test-admin", groups: []string{"system:masters"}},
	{
		name:   "controller",
		user:   "system:serviceaccount:portcullis:portcullis-controller",
		groups: []string{"system:serviceaccounts", "system:serviceaccounts:portcullis"},
	},
	{name: "app-team", user: "app-team", groups: []string{"app-team"}},
	{name: "service-team", user: "service-team", groups: []string{"service-team"}},
}

type readyLine struct {
	Ready       bool              `json:"ready"`
	URL         string            `json:"url"`
	Version     string            `json:"version"`
	DataDir     string            `json:"dataDir"`
	CompactURL  string            `json:"compactUrl"`
	EtcdURL     string            `json:"etcdUrl"`
	CAFile      string            `json:"caFile"`
	Kubeconfigs map[string]string `json:"kubeconfigs"`
	Tokens      map[string]string `json:"tokens"`
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	os.Exit(run())
}

func run() int {
	port := flag.Int("port", 0, "loopback port for the API server (0: a free one)")
	dataDir := flag.String("data-dir", "", "folder for etcd, keys and kubeconfigs (default: a temporary folder, removed on exit)")
	stdinEOF := flag.Bool("exit-on-stdin-eof", true, "stop when stdin closes (so a crashed parent does not leave the server running)")
	verbosity := flag.String("v", "0", "kube-apiserver log verbosity (klog -v)")
	progress := flag.Duration("etcd-progress-notify-interval", 0, "etcd watch progress notifications this often (0: etcd's default, 10m); the API server's watch cache advances its resourceVersion, and so its bookmarks, on them")
	var extra stringList
	flag.Var(&extra, "apiserver-arg", "extra kube-apiserver flag, e.g. --apiserver-arg=--watch-cache=false (repeatable)")
	flag.Parse()

	keep := *dataDir != ""
	dir := *dataDir
	if !keep {
		d, err := os.MkdirTemp("", "portcullis-kube-apiserver-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "harness:", err)
			return 1
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		return 1
	}
	cleanup := func() {
		if !keep {
			_ = os.RemoveAll(dir)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopReason := make(chan string, 2)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		stopReason <- "signal " + s.String()
		cancel()
	}()
	if *stdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stopReason <- "stdin closed"
			cancel()
		}()
	}

	err := serve(ctx, dir, *port, *verbosity, *progress, extra)
	select {
	case r := <-stopReason:
		fmt.Fprintln(os.Stderr, "harness: stopped:", r)
	default:
	}
	cleanup()
	if err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, dir string, port int, verbosity string, progress time.Duration, extra []string) error {
	etcd, etcdURL, err := startEtcd(filepath.Join(dir, "etcd"), progress)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer etcd.Close()

	etcdClient, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("etcd client: %w", err)
	}
	defer etcdClient.Close()
	compactURL, stopCompact, err := serveCompact(etcdClient)
	if err != nil {
		return err
	}
	defer stopCompact()

	pki, err := writePKI(dir)
	if err != nil {
		return err
	}
	tokens, err := writeTokens(filepath.Join(dir, "tokens.csv"))
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	boundPort := ln.Addr().(*net.TCPAddr).Port
	serverURL := fmt.Sprintf("https://127.0.0.1:%d", boundPort)

	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--tls-cert-file=" + pki.serverCert,
		"--tls-private-key-file=" + pki.serverKey,
		"--token-auth-file=" + filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=Node,RBAC",
		// No kubelets or Services of its own to publish: the kubernetes Service endpoints are not reconciled.
		"--endpoint-reconciler-type=none",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pki.saKey,
		"--service-account-signing-key-file=" + pki.saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--v=" + verbosity,
	}
	args = append(args, extra...)

	apiErr := make(chan error, 1)
	go func() { apiErr <- runAPIServer(ctx, ln, boundPort, args) }()

	adminCfg := &rest.Config{
		Host:            serverURL,
		BearerToken:     tokens["admin"],
		TLSClientConfig: rest.TLSClientConfig{CAFile: pki.caCert},
		Timeout:         5 * time.Second,
	}
	version, err := waitReady(ctx, adminCfg, apiErr)
	if err != nil {
		return err
	}

	kubeconfigs := map[string]string{}
	for _, id := range identities {
		path := filepath.Join(dir, "kubeconfig-"+id.name)
		if err := writeKubeconfig(path, serverURL, pki.caPEM, id, tokens[id.name]); err != nil {
			return err
		}
		kubeconfigs[id.name] = path
	}
	line, _ := json.Marshal(readyLine{
		Ready: true, URL: serverURL, Version: version, DataDir: dir, CompactURL: compactURL,
		EtcdURL: etcdURL, CAFile: pki.caCert, Kubeconfigs: kubeconfigs, Tokens: tokens,
	})
	fmt.Println(string(line))

	select {
	case err := <-apiErr:
		if ctx.Err() == nil {
			return fmt.Errorf("kube-apiserver exited: %v", err)
		}
		return nil
	case <-ctx.Done():
	}
	// The API server drains on cancel; do not wait forever for it.
	select {
	case <-apiErr:
	case <-time.After(20 * time.Second):
		fmt.Fprintln(os.Stderr, "harness: kube-apiserver did not stop within 20s")
	}
	return nil
}

// runAPIServer runs the upstream server chain with our own context so that
// the harness, not the library's signal handler, decides when it stops.
func runAPIServer(ctx context.Context, ln net.Listener, port int, args []string) error {
	s := options.NewServerRunOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, f := range s.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	s.SecureServing.Listener = ln
	s.SecureServing.BindPort = port
	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	featureGate := s.GenericServerRunOptions.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApply(s.Logs, featureGate); err != nil {
		return err
	}
	completed, err := s.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return utilerrors.NewAggregate(errs)
	}
	return app.Run(ctx, completed)
}

func waitReady(ctx context.Context, cfg *rest.Config, apiErr <-chan error) (string, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return "", err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-apiErr:
			return "", fmt.Errorf("kube-apiserver exited before ready: %v", err)
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		// readyz covers the post-start hooks (RBAC bootstrap roles, CRD
		// informers), after which the tests' first requests behave normally.
		ok, _ := get(client, cfg.Host+"/readyz")
		if !ok {
			if time.Now().After(deadline) {
				return "", errors.New("kube-apiserver not ready within 2 minutes")
			}
			continue
		}
		// The default namespace is created by a controller inside the server.
		if ok, _ := get(client, cfg.Host+"/api/v1/namespaces/default"); !ok {
			continue
		}
		_, body := get(client, cfg.Host+"/version")
		var v struct {
			GitVersion string `json:"gitVersion"`
		}
		_ = json.Unmarshal(body, &v)
		return v.GitVersion, nil
	}
}

func get(client *http.Client, u string) (bool, []byte) {
	resp, err := client.Get(u)
	if err != nil {
		return false, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK, body
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startEtcd runs a single-member etcd in this process. Ports are picked just
// before use, so a rare collision is retried with new ones.
func startEtcd(dir string, progress time.Duration) (*embed.Etcd, string, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		clientPort, err := freePort()
		if err != nil {
			return nil, "", err
		}
		peerPort, err := freePort()
		if err != nil {
			return nil, "", err
		}
		cu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", clientPort))
		pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", peerPort))
		cfg := embed.NewConfig()
		cfg.Dir = dir
		cfg.Name = "portcullis-test"
		cfg.ListenClientUrls = []url.URL{*cu}
		cfg.AdvertiseClientUrls = []url.URL{*cu}
		cfg.ListenPeerUrls = []url.URL{*pu}
		cfg.AdvertisePeerUrls = []url.URL{*pu}
		cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
		cfg.LogLevel = "error"
		// Test data is thrown away; fsync only costs time.
		cfg.UnsafeNoFsync = true
		if progress > 0 {
			cfg.WatchProgressNotifyInterval = progress
		}
		e, err := embed.StartEtcd(cfg)
		if err != nil {
			lastErr = err
			_ = os.RemoveAll(dir)
			continue
		}
		select {
		case <-e.Server.ReadyNotify():
			return e, cu.String(), nil
		case err := <-e.Err():
			e.Close()
			lastErr = err
		case <-time.After(30 * time.Second):
			e.Close()
			lastErr = errors.New("etcd not ready within 30s")
		}
		_ = os.RemoveAll(dir)
	}
	return nil, "", lastErr
}

// serveCompact exposes POST /compact on loopback: it compacts etcd to its
// current revision so tests can make older resourceVersions expire (410 Gone)
// on demand instead of waiting for the API server's periodic compaction.
func serveCompact(client *clientv3.Client) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/compact", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		// Any read returns the store's current revision in its header.
		resp, err := client.Get(ctx, "/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		rev := resp.Header.Revision
		if _, err := client.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil &&
			!strings.Contains(err.Error(), "compacted") {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int64{"revision": rev})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/compact", func() { _ = srv.Close() }, nil
}

type pkiFiles struct {
	caCert, serverCert, serverKey, saKey string
	caPEM                                []byte
}

// writePKI makes a throwaway CA, a serving certificate for 127.0.0.1 and
// localhost signed by it (so clients verify TLS instead of skipping it), and
// the ServiceAccount token signing key.
func writePKI(dir string) (pkiFiles, error) {
	p := pkiFiles{
		caCert:     filepath.Join(dir, "ca.crt"),
		serverCert: filepath.Join(dir, "apiserver.crt"),
		serverKey:  filepath.Join(dir, "apiserver.key"),
		saKey:      filepath.Join(dir, "sa.key"),
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "portcullis-test-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return p, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		return p, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	files := map[string][]byte{
		p.caCert:     p.caPEM,
		p.serverCert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
	}
	for path, key := range map[string]*ecdsa.PrivateKey{p.serverKey: srvKey, p.saKey: saKey} {
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return p, err
		}
		files[path] = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	}
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return p, err
		}
	}
	return p, nil
}

// writeTokens writes the static token file (token,user,uid,"groups") with a
// fresh random token per identity.
func writeTokens(path string) (map[string]string, error) {
	tokens := map[string]string{}
	var b strings.Builder
	for _, id := range identities {
		raw := make([]byte, 24)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		tok := hex.EncodeToString(raw)
		tokens[id.name] = tok
		fmt.Fprintf(&b, "%s,%s,%s,\"%s\"\n", tok, id.user, "uid-"+id.name, strings.Join(id.groups, ","))
	}
	return tokens, os.WriteFile(path, []byte(b.String()), 0o600)
}

func writeKubeconfig(path, server string, caPEM []byte, id identity, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["portcullis-test"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[id.name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[id.name] = &clientcmdapi.Context{Cluster: "portcullis-test", AuthInfo: id.name, Namespace: "default"}
	cfg.CurrentContext = id.name
	return clientcmd.WriteToFile(*cfg, path)
}
