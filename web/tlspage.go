package web

import (
	"github.com/danzen-gw/danzen/internal/msg"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/ledger"
)

type tlsBody struct {
	HTTPS                  bool
	Fingerprint            string
	Subject, Issuer, Names string
	From, Until            string
	SelfSigned             bool
	Error                  string
}

func (s *Server) tlsPage(w http.ResponseWriter, r *http.Request) { s.renderTLS(w, r, "") }

func (s *Server) renderTLS(w http.ResponseWriter, r *http.Request, errMsg string) {
	l := langOf(w, r)
	b := tlsBody{Error: errMsg}
	if s.certs != nil {
		leaf := s.certs.Leaf()
		b.HTTPS = true
		b.Fingerprint = s.certs.Fingerprint()
		b.Subject, b.Issuer = leaf.Subject.String(), leaf.Issuer.String()
		var names []string
		names = append(names, leaf.DNSNames...)
		for _, ip := range leaf.IPAddresses {
			names = append(names, ip.String())
		}
		b.Names = strings.Join(names, ", ")
		b.From, b.Until = stamp(leaf.NotBefore), stamp(leaf.NotAfter)
		b.SelfSigned = leaf.Subject.String() == leaf.Issuer.String()
	}
	flash, bad := flashOf(l, r)
	s.render(w, r, http.StatusOK, "tls.html", "/tls", l.t("ページの証明書", "The page's certificate"), flash, bad, b)
}

// tlsUpload replaces the page's certificate with the vendor's own (PEM
// certificate chain and key). A pair that does not validate changes
// nothing. The key is never shown; the ledger gets the new fingerprint.
func (s *Server) tlsUpload(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	if s.certs == nil {
		s.renderTLS(w, r, l.t("このページは HTTPS で提供されていません(デモ)", "this page is not served over HTTPS (demo)"))
		return
	}
	read := func(name string) []byte {
		f, _, err := r.FormFile(name)
		if err != nil {
			return []byte(r.PostFormValue(name))
		}
		defer f.Close()
		b, _ := io.ReadAll(io.LimitReader(f, maxBody))
		return b
	}
	certPEM, keyPEM := read("cert"), read("key")
	old := s.certs.Fingerprint()
	if err := s.certs.Replace(certPEM, keyPEM, time.Now()); err != nil {
		s.renderTLS(w, r, l.split(err.Error())+l.t("(証明書は変更していません)", " (the certificate was not changed)"))
		return
	}
	s.record(r.Context(), ledger.Entry{Kind: ledger.KindCertReplaced, Actor: actor(r), Message: msg.T("ページの証明書を置き換え", "page certificate replaced"),
		Payload: ledger.CertReplacedData{OldSHA256: old, NewSHA256: s.certs.Fingerprint(), Subject: s.certs.Leaf().Subject.String()}})
	s.log.Info("page certificate replaced", "sha256", s.certs.Fingerprint(), "by", actor(r))
	http.Redirect(w, r, "/tls?done=cert", http.StatusSeeOther)
}
