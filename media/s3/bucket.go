package s3

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Options says where a bucket's secrets are.
type Options struct {
	// SecretKeyPath and CAPath are Spec.SecretKeyFile and Spec.CAFile
	// resolved against the secrets directory (CAPath "" = system roots).
	SecretKeyPath string
	CAPath        string
	Logger        *slog.Logger
}

// Bucket is an opened S3 medium: its spec, credentials and a client.
type Bucket struct {
	spec   Spec
	opts   Options
	secret string
	client *minio.Client
	log    *slog.Logger
	// verified is the evidence of the last Verify that passed.
	verified *Evidence
}

// Open reads the secret key and prepares a client; it does not connect.
func Open(spec Spec, opts Options) (*Bucket, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	secret, err := readSecret(opts.SecretKeyPath)
	if err != nil {
		return nil, msg.Errorf("媒体 %s: %w", "medium %s: %w", spec.Name, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.CAPath != "" {
		pem, err := os.ReadFile(opts.CAPath)
		if err != nil {
			return nil, msg.Errorf("媒体 %s の CA ファイルを読めません: %w", "medium %s: cannot read CA file: %w", spec.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, msg.Errorf("媒体 %s の CA ファイル %s に PEM 証明書がありません", "medium %s: CA file %s holds no PEM certificate", spec.Name, opts.CAPath)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	client, err := minio.New(spec.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(spec.AccessKeyID, secret, ""),
		Secure:    true,
		Region:    spec.region(),
		Transport: tr,
	})
	if err != nil {
		return nil, msg.Errorf("媒体 %s: %w", "medium %s: %w", spec.Name, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bucket{spec: spec, opts: opts, secret: secret, client: client, log: log}, nil
}

// readSecret reads a private (0600) secret key file.
func readSecret(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", msg.Errorf("シークレットキーのファイルを読めません: %w", "cannot read the secret key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", msg.Errorf("シークレットキーのファイル %s が他のユーザーから読めます(権限 %04o、0600 にしてください)", "secret key file %s has mode %04o, want 0600",
			path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", msg.Errorf("シークレットキーのファイル %s が空です", "secret key file %s is empty", path)
	}
	return s, nil
}

// Spec returns the bucket's configuration.
func (b *Bucket) Spec() Spec { return b.spec }

// Env is what restic's s3 backend needs, for its environment only: the
// credentials never go on a command line.
func (b *Bucket) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + b.spec.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + b.secret,
		"AWS_DEFAULT_REGION=" + b.spec.region(),
	}
}

// Reachable dials the endpoint once: with an uplink on a relay this is how
// its power shows.
func (b *Bucket) Reachable(ctx context.Context) error {
	addr := b.spec.Endpoint
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "443")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// WaitReachable waits until the endpoint answers, at most AppearTimeout.
func (b *Bucket) WaitReachable(ctx context.Context) error {
	return b.poll(ctx, b.spec.appearTimeout(), func(probe context.Context) bool { return b.Reachable(probe) == nil },
		msg.Sprintf("接続先 %s に到達できません(回線装置の電源・配線を確認してください)",
			"endpoint %s cannot be reached: check the uplink device's power and cabling", b.spec.Endpoint))
}

// WaitUnreachable returns nil once the endpoint no longer answers after the
// uplink's relay was cut, at most GoneTimeout.
func (b *Bucket) WaitUnreachable(ctx context.Context) error {
	return b.poll(ctx, b.spec.goneTimeout(), func(probe context.Context) bool { return b.Reachable(probe) != nil },
		msg.Sprintf("回線を切断しても接続先 %s に到達できます(リレーまたは配線の誤り)",
			"endpoint %s is still reachable after the uplink was cut: check the relay and wiring", b.spec.Endpoint))
}

// poll waits up to limit for done; timedOut says what it means if it
// never is. Each probe gets its own context, not the caller's: a dial that
// fails because the caller gave up must never read as "the line is gone".
func (b *Bucket) poll(ctx context.Context, limit time.Duration, done func(probe context.Context) bool, timedOut msg.Text) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	check := func() bool {
		probe, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer stop()
		return done(probe)
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for !check() {
		select {
		case <-ctx.Done():
			if check() {
				return nil
			}
			return timedOut.Err()
		case <-t.C:
		}
	}
	return nil
}

// putSmall writes a small object and returns its version ID.
func (b *Bucket) putSmall(ctx context.Context, key string, body []byte) (string, error) {
	info, err := b.client.PutObject(ctx, b.spec.Bucket, key, bytes.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: "text/plain", SendContentMd5: true})
	return info.VersionID, err
}

// isDenied tells a refusal by the server (403) from a failure to ask.
func isDenied(err error) bool {
	if err == nil {
		return false
	}
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusForbidden || r.Code == "AccessDenied"
}
