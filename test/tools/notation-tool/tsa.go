package main

// A local RFC 3161 timestamping authority for timestamped fixtures (`sign --timestamp-url`):
// answers POSTed TimeStampReqs with a token signed by the PKI's tsa-leaf (EKU timeStamping,
// critical), the chain to tsa-root included when the request asks for certificates. The
// responses are made by github.com/digitorus/timestamp; notation-go checks them
// (notation-core-go signature/internal/base, tspclient-go) when signing and verifying.

import (
	"crypto"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/digitorus/timestamp"
)

func runTSA(args []string) error {
	fs := flag.NewFlagSet("tsa", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	dir := fs.String("pki", "", "the PKI directory (`pki --out`): tsa-leaf signs")
	name := fs.String("signer", "tsa-leaf", "the signing certificate's name in --pki")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *dir == "" || fs.NArg() != 0 {
		return usageError{"tsa needs --pki DIR"}
	}
	key, chain, err := loadIssuer(*dir, *name)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(*dir, *name), err)
	}
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s\n", listener.Addr())
	logger := log.New(io.Discard, "", 0)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST a TimeStampReq", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ts := timestamp.Timestamp{
			HashAlgorithm:     req.HashAlgorithm,
			HashedMessage:     req.HashedMessage,
			Time:              time.Now().UTC(),
			Accuracy:          time.Second,
			Policy:            []int{1, 3, 6, 1, 4, 1, 99999, 1}, // a private test policy
			Nonce:             req.Nonce,
			AddTSACertificate: req.Certificates,
			Certificates:      chain[1:],
		}
		resp, err := ts.CreateResponseWithOpts(chain[0], key, crypto.SHA256)
		if err != nil {
			logger.Print(err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(resp)
	})
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	return server.Serve(listener)
}
