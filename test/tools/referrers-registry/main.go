// Command referrers-registry is the test registry with the OCI 1.1 referrers API: the in-memory
// registry of go-containerregistry (pkg/registry, WithReferrersSupport) behind a thin layer that
// makes it do what the OCI distribution spec says where it falls short (see spec.go).
//
//	referrers-registry -addr 127.0.0.1:5000 [-tls-cert C -tls-key K] [-referrers-page-size N]
//	                   [-max-manifest-bytes B] [-upstream-referrers]
//
// It prints "listening on <scheme>://<host:port>" on stdout once it accepts connections.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (port 0: any free port)")
	certFile := flag.String("tls-cert", "", "serve HTTPS with this certificate (PEM); needs -tls-key")
	keyFile := flag.String("tls-key", "", "private key (PEM) of -tls-cert")
	pageSize := flag.Int("referrers-page-size", 0, "at most this many descriptors per referrers response, the rest behind a Link rel=\"next\" (0: all in one)")
	maxManifest := flag.Int64("max-manifest-bytes", 4<<20, "largest manifest accepted on PUT (413 above)")
	maxReferrers := flag.Int("max-referrers", 100_000, "most referrers the index holds, over all repositories")
	upstream := flag.Bool("upstream-referrers", false, "serve go-containerregistry's own answers unchanged (to show what it lacks)")
	flag.Parse()
	if (*certFile == "") != (*keyFile == "") {
		fmt.Fprintln(os.Stderr, "referrers-registry: -tls-cert and -tls-key go together")
		os.Exit(2)
	}

	logger := log.New(os.Stderr, "", log.LstdFlags)
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(logger))
	var handler http.Handler = inner
	if !*upstream {
		handler = newSpecLayer(inner, specOptions{pageSize: *pageSize, maxManifestBytes: *maxManifest, maxReferrers: *maxReferrers})
	}

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "referrers-registry: %v\n", err)
		os.Exit(1)
	}
	scheme := "http"
	if *certFile != "" {
		scheme = "https"
	}
	fmt.Printf("listening on %s://%s\n", scheme, listener.Addr())
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: logger}
	if *certFile != "" {
		err = server.ServeTLS(listener, *certFile, *keyFile)
	} else {
		err = server.Serve(listener)
	}
	fmt.Fprintf(os.Stderr, "referrers-registry: %v\n", err)
	os.Exit(1)
}
