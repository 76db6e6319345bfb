//! The invoice as a printable HTML page a customer can receive: self-contained (inline styles,
//! no scripts, no external resources), every value escaped.

use std::fmt::Write;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::invoice::{Invoice, InvoiceStatus, LineKind};

/// What the page says about the usage behind the lines: per meter, the quantity and the events
/// counted in the period.
#[derive(Clone, Debug, Default)]
pub struct UsageDetail {
    /// `(meter, description, quantity, unit, events)` rows.
    pub rows: Vec<(String, String, String, String, u64)>,
}

/// Renders `invoice` as a complete HTML document.
pub fn render_html(invoice: &Invoice, usage: &UsageDetail) -> String {
    let mut page = String::with_capacity(8 * 1024);
    let status = match invoice.status {
        InvoiceStatus::Draft => "Draft",
        InvoiceStatus::Final => "Invoice",
        InvoiceStatus::Void => "Void",
    };
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        page,
        "<title>{status} {} — {}</title>",
        escape(&invoice.number),
        escape(&invoice.period)
    );
    page.push_str(STYLE);
    page.push_str("</head>\n<body>\n<main>\n");
    header(&mut page, invoice, status);
    lines(&mut page, invoice);
    usage_section(&mut page, invoice, usage);
    page.push_str("<footer>Amounts are rounded to the currency's minor unit, half away from zero; the total is the sum of the rounded lines. Usage is metered per UTC calendar month.</footer>\n");
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

fn header(page: &mut String, invoice: &Invoice, status: &str) {
    let _ = writeln!(
        page,
        "<header><div><h1>{status}</h1><p class=\"muted\">Tally usage billing</p></div>"
    );
    page.push_str("<table class=\"facts\">");
    let finalized = invoice
        .finalized_at
        .map_or_else(|| "not issued (draft)".to_owned(), |at| at.to_string());
    for (label, value) in [
        ("Invoice number", invoice.number.clone()),
        ("Invoice id", invoice.id.clone()),
        ("Customer", invoice.tenant_id.clone()),
        (
            "Billing period",
            format!(
                "{} to {} (UTC)",
                invoice.period_start.date_string(),
                invoice.period_end.plus_millis(-1).date_string()
            ),
        ),
        ("Plan", invoice.plan.clone()),
        ("Issued", finalized),
    ] {
        let _ = write!(
            page,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(label),
            escape(&value)
        );
    }
    page.push_str("</table></header>\n");
    if invoice.status == InvoiceStatus::Draft {
        page.push_str("<p class=\"banner\">Draft: amounts may still change until the period is finalized.</p>\n");
    }
}

fn lines(page: &mut String, invoice: &Invoice) {
    page.push_str("<table class=\"lines\">\n<thead><tr><th>Description</th><th>Period</th><th class=\"num\">Quantity</th><th>Unit</th><th class=\"num\">Amount</th></tr></thead>\n<tbody>\n");
    for line in &invoice.lines {
        let class = if line.kind == LineKind::Adjustment {
            " class=\"adjustment\""
        } else {
            ""
        };
        let _ = writeln!(
            page,
            "<tr{class}><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            escape(&line.description),
            escape(&line.period),
            escape(&group_digits(&shown_quantity(line.quantity))),
            escape(&line.unit),
            escape(&money(&line.amount.to_string(), &invoice.currency)),
        );
    }
    let _ = writeln!(
        page,
        "</tbody>\n<tfoot><tr><th colspan=\"4\">Total due</th><td class=\"num total\">{}</td></tr></tfoot>\n</table>",
        escape(&money(&invoice.total.to_string(), &invoice.currency))
    );
}

fn usage_section(page: &mut String, invoice: &Invoice, usage: &UsageDetail) {
    let _ = writeln!(
        page,
        "<h2>Usage behind this invoice ({})</h2>",
        escape(&invoice.period)
    );
    if usage.rows.is_empty() {
        page.push_str("<p class=\"muted\">No metered usage in this period.</p>\n");
        return;
    }
    page.push_str("<table class=\"usage\">\n<thead><tr><th>Meter</th><th>What it measures</th><th class=\"num\">Quantity</th><th>Unit</th><th class=\"num\">Events</th></tr></thead>\n<tbody>\n");
    for (meter, description, quantity, unit, events) in &usage.rows {
        let _ = writeln!(
            page,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            escape(meter),
            escape(description),
            escape(&group_digits(quantity)),
            escape(unit),
            escape(&group_digits(&events.to_string())),
        );
    }
    page.push_str("</tbody>\n</table>\n");
}

/// A quantity as a person reads it: at most six fraction digits (the JSON keeps every digit).
fn shown_quantity(quantity: Decimal) -> String {
    quantity
        .round_dp_with_strategy(6, RoundingStrategy::MidpointNearestEven)
        .normalize()
        .to_string()
}

/// An amount with its currency code, digits grouped by thousands.
fn money(amount: &str, currency: &str) -> String {
    format!("{} {currency}", group_digits(amount))
}

/// Groups the integer digits of a decimal string by thousands: `1234567.5` → `1,234,567.5`.
fn group_digits(number: &str) -> String {
    let (sign, unsigned) = number
        .strip_prefix('-')
        .map_or(("", number), |rest| ("-", rest));
    let (integer, fraction) = unsigned
        .split_once('.')
        .map_or((unsigned, None), |(integer, fraction)| {
            (integer, Some(fraction))
        });
    let mut grouped = String::new();
    for (index, digit) in integer.chars().enumerate() {
        if index > 0 && (integer.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(fraction) => format!("{sign}{grouped}.{fraction}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

const STYLE: &str = "<style>
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1d2330; margin: 0; background: #f4f5f7; }
main { max-width: 860px; margin: 32px auto; background: #fff; padding: 40px 48px; box-shadow: 0 1px 4px rgba(0,0,0,.08); }
header { display: flex; justify-content: space-between; align-items: flex-start; gap: 24px; }
h1 { margin: 0; font-size: 28px; letter-spacing: .5px; }
h2 { font-size: 16px; margin: 36px 0 8px; }
.muted { color: #6b7280; margin: 4px 0 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
.facts { width: auto; } .facts th { text-align: left; color: #6b7280; font-weight: 500; padding: 2px 12px 2px 0; } .facts td { padding: 2px 0; }
.lines, .usage { margin-top: 24px; }
.lines th, .usage th { text-align: left; border-bottom: 2px solid #1d2330; padding: 8px 6px; }
.lines td, .usage td { border-bottom: 1px solid #e5e7eb; padding: 8px 6px; vertical-align: top; }
.num, .lines th.num, .usage th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot th, tfoot td { text-align: right; border-bottom: none; border-top: 2px solid #1d2330; padding-top: 12px; } .total { font-size: 18px; font-weight: 700; }
tr.adjustment td { background: #fff8e6; }
.banner { background: #fff8e6; border: 1px solid #f0d48a; padding: 8px 12px; margin-top: 20px; }
footer { margin-top: 36px; color: #6b7280; font-size: 12px; }
@media print { body { background: #fff; } main { box-shadow: none; margin: 0; padding: 0; } }
</style>
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_escapes_what_it_shows_and_keeps_the_total() {
        use crate::invoice::{InvoiceLine, InvoiceStatus};
        use tally_schemas::Timestamp;
        let invoice = Invoice {
            id: "inv-t-202610-r1".into(),
            number: "t-000001".into(),
            tenant_id: "t".into(),
            period: "2026-10".into(),
            period_start: Timestamp::parse("2026-10-01T00:00:00Z").unwrap(),
            period_end: Timestamp::parse("2026-11-01T00:00:00Z").unwrap(),
            revision: 1,
            status: InvoiceStatus::Final,
            finalized_at: Timestamp::parse("2026-11-02T00:00:00Z").ok(),
            voided_at: None,
            currency: "USD".into(),
            plan: "standard".into(),
            lines: vec![InvoiceLine {
                kind: LineKind::Charge,
                period: "2026-10".into(),
                meter: Some("api_calls".into()),
                description: "Calls <script>".into(),
                quantity: Decimal::new(1_234_567_891, 4),
                unit: "calls".into(),
                unrounded: Decimal::new(123_456, 2),
                amount: Decimal::new(123_456, 2),
            }],
            total: Decimal::new(123_456, 2),
            quantities: Default::default(),
            events: Default::default(),
            restated: Default::default(),
        };
        let page = render_html(&invoice, &UsageDetail::default());
        assert!(page.contains("Calls &lt;script&gt;") && !page.contains("<script>"));
        assert!(
            page.contains("1,234.56 USD"),
            "the total is shown with grouped digits"
        );
        assert!(
            page.contains("123,456.7891"),
            "quantities keep up to six fraction digits"
        );
        assert!(page.contains("2026-10-01 to 2026-10-31 (UTC)"));
        assert!(page.contains("<h1>Invoice</h1>") && !page.contains("Draft:"));
    }

    #[test]
    fn digits_group_by_thousands() {
        assert_eq!(group_digits("1234567.5"), "1,234,567.5");
        assert_eq!(group_digits("-1000"), "-1,000");
        assert_eq!(group_digits("999"), "999");
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
