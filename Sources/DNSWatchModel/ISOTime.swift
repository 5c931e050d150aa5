/// `2026-11-26T21:03:54Z` for epoch seconds, by arithmetic (the proleptic Gregorian calendar, UTC):
/// a listing of 100,000 rows must not build 100,000 date formatters.
public enum ISOTime {
    public static func format(_ epoch: Int64) -> String {
        let (days, secondOfDay) = epoch.quotientAndRemainder(dividingBy: 86_400)
        var d = days, s = secondOfDay
        if s < 0 {
            s += 86_400
            d -= 1
        }
        // Days since 1970-01-01 to (year, month, day): H. Hinnant's civil_from_days.
        let z = d + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let y = year >= 0 && year < 10_000 ? String(repeating: "0", count: 4 - String(year).count) + String(year) : String(year)
        return "\(y)-\(two(month))-\(two(day))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))Z"
    }
}
