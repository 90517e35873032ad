package learn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"winnow/internal/archive"
	"winnow/internal/enrich/geoip"
	"winnow/internal/event"
	"winnow/internal/learn/campaign"
	"winnow/internal/textsafe"
)

// CampaignOptions are 'winnow learn campaigns' settings.
type CampaignOptions struct {
	Archive  string
	From, To time.Time
	Kinds    []string // event kinds read (default auth and http)
	// All profiles every source with failed attempts; by default only the
	// sources of archived findings (the suspects) are clustered.
	All       bool
	GeoIP     []string // databases: the ASN joins the compared attributes
	Threshold float64
	MinEvents int
	Format    string
	Stdout    io.Writer
	Stderr    io.Writer
	Location  *time.Location
}

// CampaignReport is the command's result.
type CampaignReport struct {
	Archive   string              `json:"archive"`
	Events    int64               `json:"events"`
	Sources   int                 `json:"sources_profiled"`
	Suspects  int                 `json:"suspects"`
	Campaigns []campaign.Campaign `json:"campaigns"`
}

// Campaigns clusters the archive's attacking sources into campaigns.
func Campaigns(ctx context.Context, o CampaignOptions) error {
	if o.Archive == "" {
		return usagef("--archive DIR is required")
	}
	if st, err := os.Stat(o.Archive); err != nil || !st.IsDir() {
		return usagef("--archive %s: not a directory", o.Archive)
	}
	if o.Format == "" {
		o.Format = "text"
	}
	if o.Format != "text" && o.Format != "json" {
		return usagef("--format %q: want text or json", o.Format)
	}
	var db *geoip.DB
	if len(o.GeoIP) > 0 {
		var err error
		if db, err = geoip.Open(o.GeoIP...); err != nil {
			return err
		}
		defer db.Close()
	}
	rep := &CampaignReport{Archive: o.Archive}
	suspects := map[string]bool{}
	if !o.All {
		alerts, errs := archive.Findings(o.Archive, o.From, o.To)
		for _, e := range errs {
			fmt.Fprintf(o.Stderr, "winnow: %v\n", e)
		}
		for _, a := range alerts {
			for _, e := range append([]event.Entity{a.Entity}, a.Related...) {
				if e.Type == event.EntityIP {
					suspects[e.Value] = true
				}
			}
		}
		rep.Suspects = len(suspects)
		if len(suspects) == 0 {
			return fmt.Errorf("no findings about addresses in %s: analyze with --archive first, or profile every failing source with --all", o.Archive)
		}
	}
	kinds := o.Kinds
	if len(kinds) == 0 {
		kinds = []string{"auth", "http"}
	}
	profiles := map[string]*campaign.Profile{}
	const maxProfiles = 200_000
	st, err := archive.Events(ctx, archive.ReadOptions{Dir: o.Archive, From: o.From, To: o.To, Kinds: kinds, Location: o.Location},
		func(evs []event.Event) error {
			for i := range evs {
				ev := &evs[i]
				if !ev.SrcIP.IsValid() || !campaign.Failed(ev) {
					continue
				}
				src := ev.SrcIP.String()
				if !o.All && !suspects[src] {
					continue
				}
				p := profiles[src]
				if p == nil {
					if len(profiles) >= maxProfiles {
						continue
					}
					p = campaign.NewProfile(src)
					if db != nil {
						if info, ok := db.Lookup(ev.SrcIP); ok {
							p.SetASN(info.ASN)
						}
					}
					profiles[src] = p
				}
				p.Add(ev)
			}
			return ctx.Err()
		})
	if err != nil {
		return fmt.Errorf("cannot read archive %s: %w", o.Archive, err)
	}
	rep.Events = st.Events
	ps := make([]*campaign.Profile, 0, len(profiles))
	for _, p := range profiles {
		ps = append(ps, p)
	}
	rep.Sources = len(ps)
	rep.Campaigns = campaign.Cluster(ps, campaign.Options{Threshold: o.Threshold, MinEvents: o.MinEvents})
	if rep.Campaigns == nil {
		rep.Campaigns = []campaign.Campaign{}
	}
	if o.Format == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	w := o.Stdout
	what := "suspect sources (with findings)"
	if o.All {
		what = "sources with failed attempts"
	}
	fmt.Fprintf(w, "%d campaigns among %d %s, from %d archived events\n", len(rep.Campaigns), rep.Sources, what, rep.Events)
	for i, c := range rep.Campaigns {
		fmt.Fprintf(w, "\n#%d  %d sources, %d events, %s → %s, weakest link %.2f\n", i+1, len(c.Members), c.Events,
			c.First.UTC().Format("2006-01-02 15:04"), c.Last.UTC().Format("2006-01-02 15:04"), c.Score)
		for _, r := range c.Reasons {
			fmt.Fprintf(w, "    %s (%.2f)\n", textsafe.Terminal(r.Text), r.Score)
		}
		members := c.Members
		more := ""
		if len(members) > 12 {
			more = fmt.Sprintf(" … %d more", len(members)-12)
			members = members[:12]
		}
		fmt.Fprintf(w, "    members: %s%s\n", strings.Join(members, " "), more)
		if len(c.Shared) > 0 {
			shared := slices.Clone(c.Shared)
			for i := range shared {
				shared[i] = textsafe.Terminal(shared[i])
			}
			fmt.Fprintf(w, "    tried by every member (%d): %s\n", len(shared), strings.Join(shared, " "))
		}
	}
	return nil
}
