#!/bin/sh
# An example valuation command in POSIX sh + awk: the same contract and tasks as present_value.py.
#
#   <Task id="..." type="CashFlows" rate="0.04">     continuously compounded flat rate
#     <CashFlow years="0.5" amount="25"/>             PV = sum amount * exp(-rate * years)
#   </Task>
#   <Task id="..." type="Sum"/>                       sums the <Value> results in <Results>
#
# Output: <Value xmlns="urn:valuation:1" type="...">PV</Value>; exit 2 for a task it cannot value
# (a permanent failure, its message on stderr).
#
# awk reads the document tag by tag (records split at "<") and matches local names, so it takes
# the document as the service writes it (double or single quotes, any prefix), not arbitrary XML.
set -eu
export LC_ALL=C  # a decimal point, whatever the locale

exec awk '
BEGIN { RS = "<"; section = ""; task_type = ""; total = 0; sums = 0 }

# The value of attribute `name` in the tag text `tag`, or "" when absent.
function attribute(tag, name,    pattern, value) {
    pattern = "[[:space:]]" name "[[:space:]]*=[[:space:]]*(\"[^\"]*\"|\047[^\047]*\047)"
    if (!match(tag, pattern)) return ""
    value = substr(tag, RSTART, RLENGTH)
    sub(/^[^=]*=[[:space:]]*/, "", value)
    return substr(value, 2, length(value) - 2)
}

function fail(message) { print message > "/dev/stderr"; failed = 1; exit 2 }

NR == 1 || /^[?!]/ { next }    # text before the root, declarations, comments

{
    split($0, parts, ">")
    tag = parts[1]; text = parts[2]
    closing = (substr(tag, 1, 1) == "/")
    name = tag
    sub(/^\//, "", name); sub(/[[:space:]\/].*$/, "", name); sub(/^.*:/, "", name)

    if (name == "Task" || name == "Results") {
        section = closing ? "" : name
        if (name == "Task" && !closing && task_type == "") {
            task_type = attribute(tag, "type"); rate = attribute(tag, "rate")
            if (rate == "") rate = 0
        }
    } else if (section == "Task" && name == "CashFlow" && !closing) {
        years = attribute(tag, "years"); amount = attribute(tag, "amount")
        if (years == "" || amount == "") fail("CashFlow needs years and amount")
        total += amount * exp(-rate * years)
    } else if (section == "Results" && name == "Value" && !closing) {
        gsub(/[[:space:]]/, "", text)
        sums += text
    }
}

END {
    if (failed) exit 2
    if (task_type == "CashFlows") value = total
    else if (task_type == "Sum") value = sums
    else fail("unknown task type \047" task_type "\047")
    printf "<Value xmlns=\"urn:valuation:1\" type=\"%s\">%.6f</Value>\n", task_type, value
}
'
