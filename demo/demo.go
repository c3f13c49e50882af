package demo

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/danzen-gw/danzen/config"
)

// Env is a demo installation in one directory.
type Env struct {
	Dir     string
	Export  string // the e-chart server's export directory
	Server  *SFTPServer
	Config  *config.Config
	CfgPath string
}

// Setup generates the export, starts the SFTP server and writes a
// configuration for it under dir.
func Setup(ctx context.Context, dir string, dumpBytes int64, smallFiles int, log *slog.Logger) (*Env, error) {
	e := &Env{Dir: dir, Export: filepath.Join(dir, "echart-export")}
	if err := os.MkdirAll(e.Export, 0o755); err != nil {
		return nil, err
	}
	if err := GenerateExport(e.Export, dumpBytes, smallFiles, 1); err != nil {
		return nil, fmt.Errorf("generate the sample export: %w", err)
	}
	srv, err := StartSFTP(ctx, filepath.Join(dir, "secrets"), log)
	if err != nil {
		return nil, fmt.Errorf("start the demo SFTP server: %w", err)
	}
	e.Server = srv
	c := config.Default()
	c.GatewayID = "danzen-demo"
	c.StagingDir = filepath.Join(dir, "staging")
	c.SecretsDir = filepath.Join(dir, "secrets")
	src := config.DefaultSource()
	src.Name = "emr"
	src.Host = "127.0.0.1"
	src.Port = srv.Port()
	src.User = "danzen-pull"
	src.KeyFile = filepath.Base(srv.ClientKeyFile)
	src.KnownHosts = []string{srv.KnownHosts}
	src.ExportDir = e.Export
	src.Completion = config.Completion{Mode: config.CompletionMarker, Marker: Marker}
	c.Sources = []config.Source{src}
	e.Config = c
	e.CfgPath = filepath.Join(dir, "config.json")
	if err := config.Save(e.CfgPath, c); err != nil {
		srv.Close()
		return nil, err
	}
	return e, nil
}

// Close stops the server; the directory stays for inspection.
func (e *Env) Close() error { return e.Server.Close() }
