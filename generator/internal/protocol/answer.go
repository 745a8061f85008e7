package protocol

import (
	"encoding/json"
	"strconv"
)

// AppendJobAnswer appends the response line of a hashedProxyConfig answer,
// `{"id":…,"result":{"proxy":…,"listeners":[…],"routes":[…],"clusters":[…],"endpoints":[…]}}`
// and a newline: what encoding/json writes of a Response whose Result is the answer, but for
// each object's JSON, kept as it is (canonical, as Hashed wrote it). Written directly: a compute job's
// answers hold a million elements, which encoding/json would reflect over one by one, validating
// and compacting again every object's JSON.
func AppendJobAnswer(buf []byte, id int64, a *JobAnswer) []byte {
	buf = append(buf, `{"id":`...)
	buf = strconv.AppendInt(buf, id, 10)
	buf = append(buf, `,"result":{"proxy":`...)
	buf = append(buf, a.Proxy...)
	lists := []struct {
		key     string
		objects []JobObject
	}{{"listeners", a.Listeners}, {"routes", a.Routes}, {"clusters", a.Clusters}, {"endpoints", a.Endpoints}}
	for _, l := range lists {
		buf = append(buf, `,"`...)
		buf = append(buf, l.key...)
		buf = append(buf, `":[`...)
		for i, o := range l.objects {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"ref":`...)
			buf = strconv.AppendInt(buf, int64(o.Ref), 10)
			if o.Name != "" {
				buf = append(buf, `,"name":`...)
				name, _ := json.Marshal(o.Name) // a string: no error
				buf = append(buf, name...)
			}
			if o.Object != nil {
				buf = append(buf, `,"object":`...)
				buf = append(buf, o.Object...)
			}
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	return append(buf, "}}\n"...)
}
