package fakeedge

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// YamahaBanner is what the fake router's Telnet port says; the register
// claims a newer firmware than it announces.
const YamahaBanner = "\xff\xfb\x01\xff\xfb\x03\r\nRTX1210 Rev.14.01.38 (Fri Jul 10 09:18:04 2020)\r\n  Copyright (c) 1994-2020 Yamaha Corporation. All Rights Reserved.\r\n\r\nPassword: "

// SNMPDescr is the fake router's sysDescr.
const SNMPDescr = "RTX1210 Rev.14.01.38 (Fri Jul 10 09:18:04 2020)"

// ASAVersion is what the fake ASA's portal states: inside the range of
// CVE-2024-20353, while the register claims the fixed 9.16(4)57.
const ASAVersion = "9.16(4)48"

// Edge builds the standard edge of the tests and the benchmark:
//
//	1 FortiGate lookalike: SSL-VPN portal on 443 (TLS 1.0+), sshd on 22,
//	  UDP echo on 500, nftables dropping everything else; a global address
//	2 Yamaha router lookalike: Telnet banner, Debian snmpd (community
//	  public), dnsmasq as its DNS relay
//	3 Cisco ASA lookalike of a maintenance line: WebVPN portal on 443
//	  stating its version, UDP echo on 161 and 500, RDP port 3389
//	  accepting (forwarded to a maintenance PC)
//
// and a register with these three and a fourth line without addresses.
func Edge(dir string) (*World, register.Register, error) {
	w, err := New(dir, 3)
	if err != nil {
		return nil, register.Register{}, err
	}
	d1, d2, d3 := w.Devices[0], w.Devices[1], w.Devices[2]
	steps := []func() error{
		func() error { return w.SSLVPN(d1.NS, 443) },
		func() error { return w.SSHD(d1.NS) },
		func() error { return w.UDPEcho(d1.NS, 500) },
		func() error { return w.DropPolicy(d1.NS, []int{22, 443}, []int{500}) },
		func() error { return w.Banner(d2.NS, 23, YamahaBanner) },
		func() error { return w.SNMPD(d2.NS, "public", SNMPDescr) },
		func() error { return w.DNSMasq(d2.NS) },
		func() error { return w.ASA(d3.NS, 443, ASAVersion) },
		func() error { return w.UDPEcho(d3.NS, 161) },
		func() error { return w.UDPEcho(d3.NS, 500) },
		func() error { return w.Banner(d3.NS, 3389, "") },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			w.Close()
			return nil, register.Register{}, err
		}
	}
	reg := register.Register{Points: []register.Point{
		{ID: "CAF00001", Purpose: "電子カルテ保守 SSL-VPN", EChart: true, Scan: true, LineType: register.LineInternet,
			GlobalIP: d1.WAN.String(), IPMode: register.IPFixed, Maker: "Fortinet", Model: "FortiGate 60F",
			Firmware: "7.2.5 build1517", LANAddress: d1.LAN.String()},
		{ID: "CAF00002", Purpose: "地域連携 インターネットVPN", EChart: true, Scan: true, LineType: register.LineInternetVPN,
			Maker: "Yamaha", Model: "RTX1210", Firmware: "Rev.14.01.40", LANAddress: d2.LAN.String()},
		{ID: "CAF00003", Purpose: "医療機器 保守回線", Scan: true, LineType: register.LineClosed,
			Maker: "Cisco", Model: "ASA 5506-X", Firmware: "9.16(4)57", LANAddress: d3.LAN.String()},
		{ID: "CAF00004", Purpose: "モバイルルーター", LineType: register.LineMobile, Maker: "Buffalo"},
	}}
	return w, reg, nil
}

// Job is what the scanner process is asked to do.
type Job struct {
	Register register.Register `json:"register"`
	Scan     config.Scan       `json:"scan"`
	Previous *netprobe.Report  `json:"previous,omitempty"`
}

// Result is the scanner process's report and its peak memory.
type Result struct {
	Report  *netprobe.Report
	MaxRSS  int64 // bytes
	Elapsed time.Duration
}

const jobEnv = "DANZEN_FAKEEDGE_JOB"

// Scan runs netprobe.Scan in a child process inside the scanner's
// namespace: the current executable run again with the job in its
// environment, which must call RunChild first thing (TestMain, main).
func (w *World) Scan(ctx context.Context, job Job) (*Result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	jobFile := filepath.Join(w.Dir, fmt.Sprintf("job-%d.json", time.Now().UnixNano()))
	if err := os.WriteFile(jobFile, data, 0o600); err != nil {
		return nil, err
	}
	c := Command(ctx, w.Scanner, self, "-test.run=^$")
	c.Env = append(os.Environ(), jobEnv+"="+jobFile)
	c.Stderr = os.Stderr
	start := time.Now()
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("scanner process: %w", err)
	}
	res := &Result{Elapsed: time.Since(start)}
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.MaxRSS = ru.Maxrss * 1024
	}
	out, err := os.ReadFile(jobFile + ".report")
	if err != nil {
		return nil, err
	}
	res.Report = new(netprobe.Report)
	return res, json.Unmarshal(out, res.Report)
}

// RunChild runs the job named in the environment, if any, and exits.
func RunChild() {
	jobFile := os.Getenv(jobEnv)
	if jobFile == "" {
		return
	}
	if err := runChild(jobFile); err != nil {
		fmt.Fprintln(os.Stderr, "fakeedge scanner:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runChild(jobFile string) error {
	data, err := os.ReadFile(jobFile)
	if err != nil {
		return err
	}
	var job Job
	if err := json.Unmarshal(data, &job); err != nil {
		return err
	}
	o, err := netprobe.OptionsFromConfig(job.Scan)
	if err != nil {
		return err
	}
	o.Previous = job.Previous
	r, err := netprobe.Scan(context.Background(), job.Register, o)
	if err != nil {
		return err
	}
	f, err := os.Create(jobFile + ".report")
	if err != nil {
		return err
	}
	if err := r.WriteJSON(f); err != nil {
		_ = f.Close() // the write failed already: that is the error to report
		return err
	}
	return f.Close()
}
