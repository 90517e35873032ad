// Package nft writes winnow's active bans as an nftables script that
// `nft -f FILE` applies atomically: a table with one set per address
// family (intervals, so ranges fit, and timeouts, so bans lapse in the
// kernel too) and an input chain that drops what the sets hold.
//
// The file is rewritten whole on every change (temp file, fsync, rename in
// the same directory, never following a symlink at the destination), so a
// reader never sees half a file. Re-applying it replaces the sets' contents
// and the chain's rules; nothing outside table inet <Table> is touched.
package nft

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"winnow/internal/decide"
)

// Options name the nftables objects.
type Options struct {
	Table string // default "winnow"
	// NoChain leaves the drop rules to the user (only the sets are written).
	NoChain bool
}

// Render writes the script for ds (active at now) to w.
func Render(w io.Writer, ds []decide.Decision, now time.Time, o Options) error {
	t := o.Table
	if t == "" {
		t = "winnow"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "#!/usr/sbin/nft -f\n# Written by winnow: %d active bans at %s. Apply with: nft -f FILE\n", len(ds), now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "add table inet %s\n", t)
	fmt.Fprintf(&b, "add set inet %s ban4 { type ipv4_addr; flags interval, timeout; }\n", t)
	fmt.Fprintf(&b, "add set inet %s ban6 { type ipv6_addr; flags interval, timeout; }\n", t)
	fmt.Fprintf(&b, "flush set inet %s ban4\nflush set inet %s ban6\n", t, t)
	if !o.NoChain {
		fmt.Fprintf(&b, "add chain inet %s input { type filter hook input priority filter - 10; policy accept; }\n", t)
		fmt.Fprintf(&b, "flush chain inet %s input\n", t)
		fmt.Fprintf(&b, "add rule inet %s input ip saddr @ban4 drop\n", t)
		fmt.Fprintf(&b, "add rule inet %s input ip6 saddr @ban6 drop\n", t)
	}
	for i := range ds {
		d := &ds[i]
		secs := int64(d.Until.Sub(now) / time.Second)
		if secs < 1 {
			continue
		}
		set := "ban4"
		if d.Prefix.Addr().Is6() {
			set = "ban6"
		}
		// d.Value is an address or CIDR printed by netip: no other text can
		// reach the script.
		fmt.Fprintf(&b, "add element inet %s %s { %s timeout %ds }\n", t, set, d.Prefix.Masked().String(), secs)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteFile renders ds into path atomically. It refuses to replace a
// symlink or anything but a regular file.
func WriteFile(path string, ds []decide.Decision, now time.Time, o Options) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("cannot write nftables file %s: exists and is not a regular file", path)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write nftables file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := Render(tmp, ds, now, o); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write nftables file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write nftables file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write nftables file %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("cannot write nftables file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write nftables file %s: %w", path, err)
	}
	return nil
}
