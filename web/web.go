// Package web serves danzen's local page: the status dashboard with live
// progress, the configuration, the cycle history, the evidence ledger, user
// management and the page's own certificate. Every page but the login
// sits behind package auth; every change goes through the gateway's API
// (the same the CLI uses) and is recorded in the evidence ledger. No page
// ever shows a secret: secret files can only be replaced. Each person reads
// the page in one language, Japanese by default (render.go).
package web

import (
	"context"
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay/rtu"
	"github.com/danzen-gw/danzen/status"
)

//go:embed assets
var assets embed.FS // read-only: embedded at build time

// Core is what the page needs from danzen's core; *gateway.Gateway
// satisfies it.
type Core interface {
	Config() *config.Config
	Status(ctx context.Context) (*status.Status, error)
	Reconfigure(ctx context.Context, actor string, cfg *config.Config) error
	UndoConfig(ctx context.Context, actor string) error
	StartCycle(ctx context.Context, actor string) error
	Subscribe() (<-chan backup.CycleEvent, func())
	Running() (bool, *backup.CycleEvent)
	restorer      // restore.go
	anomalies     // anomaly.go
	scanner       // scan.go
	commissioner  // commission.go
	networker     // commission_network.go
	updater       // update.go
	pendingHolder // pending.go
	offsiter      // offsite.go
	Documents(ctx context.Context, from, to time.Time) (*documents.Input, error)
}

// Options configure New.
type Options struct {
	Core     Core       // required
	Auth     *auth.Auth // required
	Recorder Recorder   // required: where the page's own evidence goes
	// Certs is the HTTPS certificate the page is served with; nil when
	// served over plain HTTP on 127.0.0.1 (the demo).
	Certs *CertStore
	Log   *slog.Logger
	// FetchHostKey asks an SSH server for its host key [pull.FetchHostKey].
	FetchHostKey func(ctx context.Context, host string, port int, prefer ...string) (ssh.PublicKey, error)
	// Adapters lists the USB serial adapters connected now, for the relay
	// module form (default: rtu.Adapters of /sys).
	Adapters func() ([]rtu.Adapter, error)
}

// Server is the page.
type Server struct {
	core         Core
	auth         *auth.Auth
	rec          Recorder
	certs        *CertStore
	log          *slog.Logger
	tmpl         templates
	fetchHostKey func(ctx context.Context, host string, port int, prefer ...string) (ssh.PublicKey, error)
	adapters     func() ([]rtu.Adapter, error)
	handler      http.Handler
}

// maxBody bounds every request body: the largest legitimate one is a
// certificate chain with its key.
const maxBody = 1 << 20

// New builds the page.
func New(opts Options) (*Server, error) {
	if opts.Core == nil || opts.Auth == nil || opts.Recorder == nil {
		return nil, errors.New("web: Options.Core, Auth and Recorder are required")
	}
	s := &Server{core: opts.Core, auth: opts.Auth, rec: opts.Recorder, certs: opts.Certs, log: opts.Log, fetchHostKey: opts.FetchHostKey, adapters: opts.Adapters}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.fetchHostKey == nil {
		s.fetchHostKey = pull.FetchHostKey
	}
	if s.adapters == nil {
		s.adapters = func() ([]rtu.Adapter, error) { return rtu.Adapters("/sys") }
	}
	t, err := parseTemplates(assets)
	if err != nil {
		return nil, err
	}
	s.tmpl = t
	a := s.auth
	need := a.RequireAction
	mux := http.NewServeMux()
	mux.Handle("GET /static/", staticFiles())
	mux.HandleFunc("GET /favicon.ico", favicon)
	mux.Handle(auth.LoginPath, a.LoginHandler())
	mux.Handle(auth.LogoutPath, a.LogoutHandler())
	mux.Handle(auth.SetupPath, a.SetupHandler())

	mux.Handle("GET /{$}", need(auth.ViewStatus, http.HandlerFunc(s.dashboard)))
	mux.Handle("GET /events", need(auth.ViewStatus, http.HandlerFunc(s.events)))
	// /metrics answers without a login so Prometheus can scrape it; it
	// carries states and times only, never a name of a person or a secret.
	mux.Handle("GET /metrics", metrics(s.core.Status))
	mux.Handle("POST /cycle", need(auth.RunCycle, http.HandlerFunc(s.runCycle)))
	mux.Handle("GET /history", need(auth.ViewEvidence, http.HandlerFunc(s.history)))
	mux.Handle("GET /ledger", need(auth.ViewEvidence, http.HandlerFunc(s.ledgerPage)))
	mux.Handle("GET /ledger/export", need(auth.ViewEvidence, http.HandlerFunc(s.ledgerExport)))
	mux.Handle("GET /restore", need(auth.ViewEvidence, http.HandlerFunc(s.restorePage)))
	mux.Handle("POST /restore", need(auth.PowerForRestore, http.HandlerFunc(s.startRestore)))
	mux.Handle("POST /drill", need(auth.StartDrill, http.HandlerFunc(s.startDrill)))
	// Restored files are patient records, not reports: only those who may
	// restore may take them off the gateway (auditors download reports).
	mux.Handle("GET /restores/{id}/file", need(auth.PowerForRestore, http.HandlerFunc(s.restoredFile)))
	mux.Handle("POST /restores/{id}/remove", need(auth.PowerForRestore, http.HandlerFunc(s.removeRestore)))
	mux.Handle("GET /anomalies", need(auth.ViewStatus, http.HandlerFunc(s.anomalyPage)))
	mux.Handle("POST /anomalies/{id}/ack", need(auth.AckAlert, http.HandlerFunc(s.acknowledgeAnomaly)))
	mux.Handle("GET /documents", need(auth.DownloadReports, http.HandlerFunc(s.documentsPage)))
	mux.Handle("GET /documents/{name}", need(auth.DownloadReports, http.HandlerFunc(s.documentDownload)))
	mux.Handle("POST /documents/fields", need(auth.EditConfig, http.HandlerFunc(s.documentFields)))
	mux.Handle("POST /documents/exercise", need(auth.StartDrill, http.HandlerFunc(s.recordExercise)))
	mux.Handle("GET /scan", need(auth.DownloadReports, http.HandlerFunc(s.scanPage)))
	mux.Handle("GET /scan/reports/{file}", need(auth.DownloadReports, http.HandlerFunc(s.reportDownload)))
	mux.Handle("GET /scan/register.csv", need(auth.DownloadReports, http.HandlerFunc(s.exportRegister)))
	// Scanning touches the hospital's edge devices: a job like a cycle.
	mux.Handle("POST /scan/run", need(auth.RunCycle, http.HandlerFunc(s.scanNow)))
	mux.Handle("POST /scan/register", need(auth.EditConfig, http.HandlerFunc(s.savePoint)))
	mux.Handle("POST /scan/register/delete", need(auth.EditConfig, http.HandlerFunc(s.deletePoint)))
	mux.Handle("POST /scan/register/import", need(auth.EditConfig, http.HandlerFunc(s.importRegister)))
	mux.Handle("POST /scan/feed", need(auth.EditConfig, http.HandlerFunc(s.uploadFeed)))
	mux.Handle("GET /scan/confirm", need(auth.DownloadReports, http.HandlerFunc(s.targetPage)))
	mux.Handle("POST /scan/confirm", need(auth.EditConfig, http.HandlerFunc(s.confirmTarget)))

	mux.Handle("GET /config", need(auth.EditConfig, http.HandlerFunc(s.configOverview)))
	mux.Handle("POST /config/undo", need(auth.EditConfig, http.HandlerFunc(s.configUndo)))
	mux.Handle("GET /config/{kind}", need(auth.EditConfig, http.HandlerFunc(s.configForm)))
	mux.Handle("POST /config/{kind}", need(auth.EditConfig, http.HandlerFunc(s.configSubmit)))
	mux.Handle("POST /config/{kind}/delete", need(auth.EditConfig, http.HandlerFunc(s.configDelete)))
	mux.Handle("POST /config/{kind}/key", need(auth.EditConfig, http.HandlerFunc(s.accountKey)))
	mux.Handle("POST /config/medium/secret", need(auth.EditConfig, http.HandlerFunc(s.mediumSecret)))
	s.commissionRoutes(mux, need) // commission.go
	s.networkRoutes(mux, need)    // commission_network.go
	s.updateRoutes(mux, need)     // update.go
	s.pendingRoutes(mux, need)    // pending.go
	s.offsiteRoutes(mux, need)    // offsite.go
	mux.Handle("GET /tls", need(auth.EditConfig, http.HandlerFunc(s.tlsPage)))
	mux.Handle("POST /tls", need(auth.EditConfig, http.HandlerFunc(s.tlsUpload)))

	mux.Handle("GET /users", need(auth.ManageUsers, http.HandlerFunc(s.usersPage)))
	mux.Handle("POST /users/{op}", need(auth.ManageUsers, http.HandlerFunc(s.usersSubmit)))
	mux.Handle("GET /account", need(auth.ViewStatus, http.HandlerFunc(s.accountPage)))
	mux.Handle("POST /account/password", need(auth.ViewStatus, http.HandlerFunc(s.accountPassword)))

	s.handler = limitBody(a.Middleware(mux))
	return s, nil
}

// ServeHTTP serves the page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// limitBody runs before auth's middleware, which parses the form to check
// the CSRF token.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Said as such when announced: cut off later, the form would lose
		// its CSRF token and the refusal would name the wrong cause. This
		// runs before the session is known: both languages.
		limit := int64(maxBody)
		if r.Method == http.MethodPut && r.URL.Path == updatePath {
			limit = maxUpdate // a firmware bundle, streamed (update.go)
		}
		if r.ContentLength > limit {
			auth.SecurityHeaders(w, r) // auth's middleware, which sets them, is not reached
			http.Error(w, msg.T("送信データが大きすぎます", "request body too large").String(), http.StatusRequestEntityTooLarge)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

func staticFiles() http.Handler {
	fs := http.StripPrefix("/static/", http.FileServerFS(mustSub(assets, "assets")))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "max-age=300")
		fs.ServeHTTP(w, r)
	})
}

// favicon answers the browser's automatic request (a 404 there would be a
// console error on every page, the login page included).
func favicon(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/icon.svg")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "max-age=86400")
	_, _ = w.Write(b) // a browser that went away needs no icon
}

// actor is the logged-in user, for the ledger. RequireAction guarantees a
// session on every handler that calls it.
func actor(r *http.Request) string {
	if s, ok := auth.SessionFrom(r.Context()); ok {
		return s.User
	}
	return "-"
}

func role(r *http.Request) auth.Role {
	if s, ok := auth.SessionFrom(r.Context()); ok {
		return s.Role
	}
	return ""
}
