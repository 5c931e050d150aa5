import DNSWatchModel
import CLDNS
