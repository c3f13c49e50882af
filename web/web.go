// Package web serves danzen's local page. For now it is the read-only
// status dashboard; everything it shows comes from package status.
package web

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/danzen-gw/danzen/status"
)

//go:embed assets
var assets embed.FS

// StatusFunc returns the current status.
type StatusFunc func(ctx context.Context) (*status.Status, error)

// Handler serves the dashboard.
func Handler(get StatusFunc, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tmpl := template.Must(template.New("").Funcs(template.FuncMap{
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.Local().Format("2006-01-02 15:04:05")
		},
		"dur": func(d time.Duration) string { return d.Round(time.Second).String() },
	}).ParseFS(assets, "assets/*.html"))
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(mustSub(assets, "assets"))))
	mux.HandleFunc("GET /metrics", metrics(get))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		st, err := get(r.Context())
		if err != nil && st == nil {
			http.Error(w, "状態を取得できません / cannot read the status: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		if err := tmpl.ExecuteTemplate(w, "status.html", st); err != nil {
			log.Error("render status page", "err", err)
		}
	})
	return mux
}
