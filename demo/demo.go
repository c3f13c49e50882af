package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/danzen-gw/danzen/config"
)

// Options shape the demo installation.
type Options struct {
	Dir          string
	DumpBytes    int64
	SmallFiles   int
	Media        []string // file-backed disks behind fake relays
	DiskSize     int64    // sparse image size of each disk
	ResticBinary string
	// Modbus puts the disks' relays on a simulated Modbus RTU relay module
	// (HardwareOptions.Modbus) instead of fake pins.
	Modbus bool
}

// Env is a demo installation in one directory.
type Env struct {
	Dir      string
	Export   string // the e-chart server's export directory
	Server   *SFTPServer
	Hardware *Hardware
	Config   *config.Config
	CfgPath  string
}

// Setup generates the export, starts the SFTP server, creates the disks
// and relays, and writes a configuration for all of it under o.Dir.
func Setup(ctx context.Context, o Options, log *slog.Logger) (*Env, error) {
	e := &Env{Dir: o.Dir, Export: filepath.Join(o.Dir, "echart-export")}
	if err := os.MkdirAll(e.Export, 0o755); err != nil {
		return nil, err
	}
	if err := GenerateExport(e.Export, o.DumpBytes, o.SmallFiles, 1); err != nil {
		return nil, fmt.Errorf("generate the sample export: %w", err)
	}
	srv, err := StartSFTP(ctx, filepath.Join(o.Dir, "secrets"), log)
	if err != nil {
		return nil, fmt.Errorf("start the demo SFTP server: %w", err)
	}
	e.Server = srv
	if len(o.Media) > 0 {
		if e.Hardware, err = NewHardwareWith(ctx, filepath.Join(o.Dir, "disks"), o.Media, o.DiskSize, log, HardwareOptions{Modbus: o.Modbus}); err != nil {
			return nil, errors.Join(err, srv.Close())
		}
	}
	c := config.Default()
	c.GatewayID = "danzen-demo"
	c.StagingDir = filepath.Join(o.Dir, "staging")
	c.SecretsDir = filepath.Join(o.Dir, "secrets")
	c.LedgerDir = filepath.Join(o.Dir, "ledger")
	c.ResticBinary = o.ResticBinary
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
	if e.Hardware != nil {
		c.Relays = e.Hardware.Relays
		c.RelayModules = e.Hardware.Modules
		c.Media = e.Hardware.Media
		c.Rotation.PerCycle = 0 // the demo writes both disks each cycle
	}
	e.Config = c
	e.CfgPath = filepath.Join(o.Dir, "config.json")
	if err := config.Save(e.CfgPath, c); err != nil {
		return nil, errors.Join(err, e.Close())
	}
	return e, nil
}

// Close stops the server and detaches the disks; the directory stays for
// inspection.
func (e *Env) Close() error {
	err := e.Server.Close()
	if e.Hardware != nil {
		err = errors.Join(err, e.Hardware.Close())
	}
	return err
}
