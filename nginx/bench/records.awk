# Turn rows of the source CSV (header first, no quoted fields) into JSON
# prediction bodies, one per line: test-split patients only (patient_nbr mod
# 100 >= valid_below), expired/hospice encounters dropped, "?" sent as null.
# Variables: valid_below (85), batch (1 = one record per body; N = {"instances": [N records]}),
#            max (bodies to write, 0 = all).
BEGIN { FS = ","; if (!valid_below) valid_below = 85; if (!batch) batch = 1; n = 0; nb = 0 }
NR == 1 { sub(/\r$/, ""); for (i = 1; i <= NF; i++) name[i] = $i; ncol = NF; next }
{
    sub(/\r$/, "")
    if (NF != ncol) next
    d = $8
    if (d == 11 || d == 13 || d == 14 || d == 19 || d == 20 || d == 21) next
    if (($2 % 100) < valid_below) next
    rec = "{"
    for (i = 1; i <= ncol; i++) {
        if (name[i] == "patient_nbr" || name[i] == "readmitted") continue
        v = $i
        gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v)
        if (v == "?") val = "null"; else val = "\"" v "\""
        rec = rec (i > 1 ? "," : "") "\"" name[i] "\":" val
    }
    rec = rec "}"
    if (batch == 1) { print rec; nb++ }
    else {
        buf = buf (k ? "," : "") rec; k++
        if (k == batch) { print "{\"instances\":[" buf "]}"; buf = ""; k = 0; nb++ }
    }
    if (max && nb >= max) exit
}
