package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
)

// page is what every template gets.
type page struct {
	Title  string
	KeyID  string // the signed-in access key; "" on the sign-in page
	CSRF   string
	Error  string
	Notice string
	App    *application  // the app the page is about, if any
	Apps   []application // for the app switcher
	Nav    string        // the app page the header marks as current: jobs, import, segments, endpoints
	Crumbs []crumb       // breadcrumbs after "Apps"
	Data   any           // the page's own data
	Poll   string        // a JSON URL console.js polls for job progress
}

type crumb struct{ Label, Href string }

// templateFuncs are the helpers the templates use.
var templateFuncs = template.FuncMap{
	"appPath":    appPath,
	"stateClass": stateClass,
	"num":        formatNumber,
	"date":       formatDate,
	"chart":      channelChart,
	"short": func(id string) string {
		if len(id) > 8 {
			return id[:8]
		}
		return id
	},
	"sub":   func(a, b int) int { return a - b },
	"int64": func(n int) int64 { return int64(n) },
	"pretty": func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
}

// parsePages parses each page template with the layout.
func parsePages() map[string]*template.Template {
	pages := map[string]*template.Template{}
	names, _ := templateFS.ReadDir("templates")
	for _, n := range names {
		name := strings.TrimSuffix(n.Name(), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		pages[name] = template.Must(template.New("layout.html").Funcs(templateFuncs).
			ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+n.Name()))
	}
	return pages
}

// render writes a page; the template is rendered to a buffer first, so a template error is a
// clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, p); err != nil {
		c.Logger.Error("render console page", "page", name, "error", err)
		http.Error(w, "The page could not be shown; the server log says why.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// stateClass is the CSS class of a job state's badge.
func stateClass(state string) string {
	switch state {
	case "COMPLETED":
		return "ok"
	case "FAILED", "FAILING":
		return "bad"
	case "CREATED", "PENDING_JOB":
		return "wait"
	}
	return "run"
}

// formatNumber writes n with thousands separators.
func formatNumber(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formatDate shows an ISO 8601 time from the API in UTC, to the second.
func formatDate(iso string) string {
	t, err := time.Parse(time.RFC3339Nano, iso)
	if err != nil {
		return iso
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// formatTime writes a state's time to the millisecond: states can follow each other fast.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

// formatDuration writes a duration people read: 850ms, 12.3s, 4m05s, 2h13m.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// formatRate writes a rate of endpoints a second.
func formatRate(r float64) string {
	switch {
	case r <= 0 || math.IsNaN(r) || math.IsInf(r, 0):
		return "–"
	case r < 10:
		return fmt.Sprintf("%.1f/s", r)
	}
	return formatNumber(int64(math.Round(r))) + "/s"
}

// bar is one bar of a ChannelCounts chart.
type bar struct {
	Channel       string
	Count         int
	Y, Width      int
	LabelY, TextX int
}

// chartData is a horizontal bar chart of ChannelCounts, drawn as inline SVG by the template.
type chartData struct {
	Bars          []bar
	Width, Height int
	BarH, LabelW  int
	Label         string
	Small         bool
}

// channelChart lays out the bars of counts, largest first; small is the table-cell size.
func channelChart(counts map[string]int, small bool) *chartData {
	if len(counts) == 0 {
		return nil
	}
	channels := make([]string, 0, len(counts))
	for ch := range counts {
		channels = append(channels, ch)
	}
	sort.Slice(channels, func(i, j int) bool {
		if counts[channels[i]] != counts[channels[j]] {
			return counts[channels[i]] > counts[channels[j]]
		}
		return channels[i] < channels[j]
	})
	most := counts[channels[0]]
	labelW, barMax, rowH, barH := 110, 220, 24, 16
	if small {
		labelW, barMax, rowH, barH = 70, 90, 16, 10
	}
	d := &chartData{Width: labelW + barMax + 70, Height: len(channels) * rowH, Small: small, BarH: barH, LabelW: labelW}
	if small {
		d.Width = labelW + barMax + 50
	}
	var label []string
	for i, ch := range channels {
		w := 0
		if most > 0 {
			w = max(1, counts[ch]*barMax/most)
		}
		y := i * rowH
		d.Bars = append(d.Bars, bar{Channel: ch, Count: counts[ch], Y: y + (rowH-barH)/2, Width: w,
			LabelY: y + rowH/2 + 4, TextX: labelW + w + 6})
		label = append(label, fmt.Sprintf("%s %d", ch, counts[ch]))
	}
	d.Label = "Endpoints by channel: " + strings.Join(label, ", ")
	return d
}
