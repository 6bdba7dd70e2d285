// SPDX-License-Identifier: MIT

// Command ferretdb-test-server is the MongoDB-wire server the nsconnect tests
// talk to. The tests need a real server that speaks the MongoDB wire protocol,
// and MongoDB itself is not packaged for the build machines, so this program
// embeds FerretDB (github.com/FerretDB/FerretDB/ferretdb, SQLite backend) and
// serves it on a loopback port. tests/with-mongo.sh builds, starts and stops it.
//
// It embeds the library rather than running FerretDB's own command because
// `go install .../cmd/ferretdb` panics at start: the published module lacks
// the generated build/version/version.txt (FerretDB issue 2982). That check
// only runs when FerretDB is the main module, so a program of our own that
// imports the package never reaches it.
//
// Known limits of FerretDB 1.24.2 with SQLite that tests must respect (a
// real MongoDB has none of them):
//   - a createIndexes command listing two or more indexes that already exist
//     panics the connection or silently skips a new index; send one index
//     per command (as Nightscout does).
//   - update commands hang the whole server once 100 of their
//     updateOne/replaceOne statements that matched an existing document are
//     in flight, counted over all commands running at once: each keeps one of
//     the 100 pooled SQLite connections until its command ends. Keep bulk
//     writes to a few dozen operations per command.
//   - only {_id: value} filters reach SQLite; any other filter scans the
//     collection, so keep test collections small.
//
// Usage:
//
//	ferretdb-test-server -listen 127.0.0.1:0 -dir DIR -ready-file FILE
//
// Once the listener is bound, the actual "127.0.0.1:PORT" is written to FILE
// (temporary file + rename, so readers never see a partial address). Logs go
// to stderr at warn level unless -log-level says otherwise. SIGTERM or
// SIGINT stops it cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on; port 0 picks a free port")
	dir := flag.String("dir", "", "SQLite data directory (created if missing)")
	readyFile := flag.String("ready-file", "", "file that receives the bound address once the server accepts connections")
	logLevel := flag.String("log-level", "warn", "stderr log level: debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-test-server: -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}

	if err := run(*listen, *dir, *readyFile, level); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-test-server: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, dir, readyFile string, level slog.Level) error {
	if flag.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}

	// Tests must never expose the server beyond this machine.
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %v", listen, err)
	}
	if host != "127.0.0.1" {
		return fmt.Errorf("-listen %q: only 127.0.0.1 is allowed", listen)
	}

	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("-dir %q: %v", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("creating data directory: %v", err)
	}
	// FerretDB wants a "file:" URI naming an existing directory, ending in "/".
	sqliteURL := (&url.URL{Scheme: "file", Path: abs + "/"}).String()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	// New binds the listener, so port 0 is resolved when it returns.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	u, err := url.Parse(f.MongoDBURI())
	if err != nil {
		stop()
		<-done
		return fmt.Errorf("reading bound address: %v", err)
	}
	if readyFile != "" {
		if err := writeAtomic(readyFile, u.Host+"\n"); err != nil {
			stop()
			<-done
			return fmt.Errorf("writing ready file: %v", err)
		}
	}

	return <-done
}

// writeAtomic replaces path with content so that readers see all or nothing.
func writeAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, werr := tmp.WriteString(content)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name)
	}
	return werr
}
