//! The catalog of findings: what each one means, how bad it is, what to do and the public
//! source it rests on. `rdsports lint --explain ID` prints one entry; SARIF carries them as
//! the tool's rules.

use serde::Serialize;

pub use rdsports_schema::lint::Severity;

/// Where a finding's evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// The deployment file and its plan.
    Plan,
    /// Results of `rdsports check`.
    Check,
    /// A firewall's rule set, read by the audit readers (`--rules`).
    Rules,
}

/// A public document a finding rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Source {
    /// Title as its publisher gives it.
    pub title: &'static str,
    /// Where to read it.
    pub url: &'static str,
}

/// One kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable id, used in `[[lint.accept]]`, SARIF and `--explain`.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Plan or check results.
    pub basis: Basis,
    /// One line.
    pub title: &'static str,
    /// Why it matters.
    pub rationale: &'static str,
    /// What to do.
    pub fix: &'static str,
    /// The public sources.
    pub sources: &'static [Source],
}

const CISA_BLUEKEEP: Source = Source {
    title: "CISA Alert AA19-168A: Microsoft Operating Systems BlueKeep Vulnerability (block TCP 3389 at the enterprise perimeter firewall; enable Network Level Authentication)",
    url: "https://www.cisa.gov/news-events/cybersecurity-advisories/aa19-168a",
};
const NSA_RDP: Source = Source {
    title: "NSA Cybersecurity Advisory, 4 June 2019: Patch Remote Desktop Services on Legacy Versions of Windows (block TCP 3389 at perimeter firewalls; enable NLA)",
    url: "https://media.defense.gov/2019/Jun/04/2002139564/-1/-1/0/CSA-PATCH-REMOTE-DESKTOP-SERVICES-ON-LEGACY-VERSIONS-OF-WINDOWS.PDF",
};
const MS_RDS_PORTS: Source = Source {
    title: "Microsoft: Ports that are used by Remote Desktop Services (RD Gateway is the internet-facing role)",
    url: "https://learn.microsoft.com/troubleshoot/windows-server/remote/ports-used-by-rds",
};
const MS_SMB_SECURE: Source = Source {
    title: "Microsoft: Secure SMB Traffic in Windows Server (block inbound and outbound SMB 445 and NetBIOS 137-139 at the edge firewall)",
    url: "https://learn.microsoft.com/windows-server/storage/file-server/smb-secure-traffic",
};
const KB_154596: Source = Source {
    title: "Microsoft KB 154596: How to configure RPC dynamic port allocation to work with firewalls",
    url: "https://learn.microsoft.com/troubleshoot/windows-server/networking/configure-rpc-dynamic-port-allocation-with-firewalls",
};
const KB_224196: Source = Source {
    title: "Microsoft KB 224196: Restricting Active Directory RPC traffic to a specific port",
    url: "https://learn.microsoft.com/troubleshoot/windows-server/active-directory/restrict-ad-rpc-traffic-to-specific-port",
};
const MS_WINRM_SECURITY: Source = Source {
    title: "Microsoft: Security considerations for PowerShell Remoting using WinRM (HTTPS for computers outside the domain or across untrusted networks)",
    url: "https://learn.microsoft.com/powershell/scripting/security/remoting/winrm-security",
};
const ADV190023: Source = Source {
    title: "Microsoft ADV190023: Guidance for enabling LDAP channel binding and LDAP signing",
    url: "https://msrc.microsoft.com/update-guide/vulnerability/ADV190023",
};
const SEED: Source = Source {
    title: "RDS 2012: Which ports are used during deployment? (CRL over LDAP, HTTP or FTP; NetBIOS to the license server as legacy)",
    url: "https://social.technet.microsoft.com/wiki/contents/articles/16164.rds-2012-which-ports-are-used-during-deployment.aspx",
};
const CIS_NLA: Source = Source {
    title: "CIS Microsoft Windows Server Benchmark: Ensure 'Require user authentication for remote connections by using Network Level Authentication' is set to 'Enabled'",
    url: "https://www.cisecurity.org/benchmark/microsoft_windows_server",
};
const CIS_SECURITY_LAYER: Source = Source {
    title: "CIS Microsoft Windows Server Benchmark: Ensure 'Require use of specific security layer for remote (RDP) connections' is set to 'Enabled: SSL'",
    url: "https://www.cisecurity.org/benchmark/microsoft_windows_server",
};
const NIST_800_52: Source = Source {
    title: "NIST SP 800-52 Rev. 2: Guidelines for the Selection, Configuration, and Use of TLS Implementations (TLS 1.2 or later)",
    url: "https://csrc.nist.gov/pubs/sp/800/52/r2/final",
};
const MS_RDG_CERT: Source = Source {
    title: "Microsoft: Get-RDCertificate (RDGateway and RDWebAccess certificate levels: a self-signed certificate is 'Untrusted'; 'Trusted' needs an enterprise or public CA)",
    url: "https://learn.microsoft.com/powershell/module/remotedesktop/get-rdcertificate",
};
const MS_TSGU: Source = Source {
    title: "[MS-TSGU] Terminal Services Gateway Server Protocol, 4.2.1 Normal Scenario (HTTP transport: RDG_OUT_DATA on /remoteDesktopGateway/ is answered with HTTP 401 and the supported authentication schemes)",
    url: "https://learn.microsoft.com/openspecs/windows_protocols/ms-tsgu/4675ba6f-dc46-4018-93a7-a2e30879b50b",
};
const RFC_5280_CDP: Source = Source {
    title: "RFC 5280 4.2.1.13 CRL Distribution Points and 4.2.2.1 Authority Information Access",
    url: "https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.13",
};
const CIS_SMB_SIGNING: Source = Source {
    title: "CIS Microsoft Windows Server Benchmark: Ensure 'Microsoft network server: Digitally sign communications (always)' is set to 'Enabled'",
    url: "https://www.cisecurity.org/benchmark/microsoft_windows_server",
};
const MS_SMB_SIGNING: Source = Source {
    title: "Microsoft: Overview of Server Message Block signing",
    url: "https://learn.microsoft.com/troubleshoot/windows-server/networking/overview-server-message-block-signing",
};
const MS_CLOCK_SKEW: Source = Source {
    title: "Microsoft: Maximum tolerance for computer clock synchronization (Kerberos default: 5 minutes)",
    url: "https://learn.microsoft.com/previous-versions/windows/it-pro/windows-10/security/threat-protection/security-policy-settings/maximum-tolerance-for-computer-clock-synchronization",
};

/// Every rule, in the order of `--explain` listings.
pub const RULES: &[Rule] = &[
    Rule {
        id: "rdp-from-internet",
        severity: Severity::Critical,
        basis: Basis::Plan,
        title: "RDP is reachable from the internet",
        rationale: "The plan lets internet hosts open RDP (TCP or UDP on the RDP port, or the \
            HTML5 client's WebSocket port 3392) on session hosts, brokers or virtual desktops \
            directly. RDP listeners exposed to the internet are scanned and attacked within \
            hours (BlueKeep CVE-2019-0708 and its successors, password spraying). Microsoft's \
            design puts RD Gateway in front: only HTTPS 443 and UDP 3391 face the internet.",
        fix: "Publish RDP through an RD Gateway and set `direct_access = false` (or remove \
            it); block TCP and UDP 3389 at the perimeter firewall.",
        sources: &[CISA_BLUEKEEP, NSA_RDP, MS_RDS_PORTS],
    },
    Rule {
        id: "web-access-without-gateway",
        severity: Severity::High,
        basis: Basis::Plan,
        title: "RD Web Access is published to the internet without an RD Gateway",
        rationale: "RD Web Access hands out .rdp files and the RemoteApp feed; without an RD \
            Gateway those files point clients at the session hosts' RDP ports, which then have \
            to be reachable from the internet as well.",
        fix: "Add an RD Gateway host (role `gateway`) and publish it beside RD Web Access.",
        sources: &[MS_RDS_PORTS, CISA_BLUEKEEP],
    },
    Rule {
        id: "smb-from-internet",
        severity: Severity::Critical,
        basis: Basis::Plan,
        title: "SMB or NetBIOS crosses the internet edge",
        rationale: "SMB (TCP 445) and NetBIOS (UDP 137, 138, TCP 139) between the internet and \
            the deployment, in either direction, expose file sharing and NTLM authentication \
            to the internet (WannaCry/EternalBlue, NTLM relay and hash leaks).",
        fix: "Block SMB and NetBIOS at the edge firewall in both directions; keep the role \
            that needs it (file server, license server) inside.",
        sources: &[MS_SMB_SECURE],
    },
    Rule {
        id: "smb-across-perimeter",
        severity: Severity::Medium,
        basis: Basis::Plan,
        title: "SMB or NetBIOS crosses the perimeter network's boundary",
        rationale: "A host in the perimeter network (the zone internet clients reach) talks SMB \
            or NetBIOS with the internal network, or the reverse. A compromised perimeter host \
            then reaches internal file sharing and can relay NTLM. Domain-joined perimeter \
            servers need SMB 445 to the domain controllers for Group Policy (D05), which is a \
            common, accepted exception.",
        fix: "Keep SMB off the perimeter boundary where you can; where a domain-joined perimeter \
            server needs it, allow it to the domain controllers only and accept the finding \
            with a reason.",
        sources: &[MS_SMB_SECURE],
    },
    Rule {
        id: "rpc-from-internet",
        severity: Severity::Critical,
        basis: Basis::Plan,
        title: "The RPC endpoint mapper or the dynamic RPC range is open to the internet",
        rationale: "TCP 135 and the dynamic RPC range reach the management and directory \
            interfaces of Windows (DCOM, LSA, SAM, Netlogon). They are never meant for the \
            internet.",
        fix: "Remove the flow from internet hosts; keep RPC between internal zones only.",
        sources: &[KB_154596, MS_RDS_PORTS],
    },
    Rule {
        id: "rpc-range-across-zones",
        severity: Severity::Medium,
        basis: Basis::Plan,
        title: "A zone boundary opens the whole dynamic RPC range",
        rationale: "RPC through a firewall needs the endpoint mapper (135) plus every port the \
            dynamic range holds: 16,384 ports for the default 49152-65535. Each crossing \
            therefore opens far more than the services the deployment uses.",
        fix: "Restrict the dynamic range on the servers (KB 154596, for example 100-200 ports: \
            set `rpc_range`) and pin Active Directory's RPC to one port on the domain \
            controllers (KB 224196: set `ad_rpc_port`).",
        sources: &[KB_154596, KB_224196],
    },
    Rule {
        id: "winrm-http-across-zones",
        severity: Severity::Medium,
        basis: Basis::Plan,
        title: "WinRM over HTTP (5985) crosses a zone boundary",
        rationale: "Server Manager and RDMS manage the deployment over WinRM. Over HTTP the \
            message layer is encrypted only after Kerberos or NTLM authentication, and the \
            server is not authenticated by a certificate; across an untrusted boundary (a \
            perimeter network) Microsoft recommends HTTPS.",
        fix: "Set `winrm = \"https\"` (TCP 5986) with a certificate on the managed hosts, or \
            manage perimeter hosts from a management host in the same zone.",
        sources: &[MS_WINRM_SECURITY],
    },
    Rule {
        id: "ldap-cleartext-across-zones",
        severity: Severity::Medium,
        basis: Basis::Plan,
        title: "LDAP 389 or global catalog 3268 crosses a zone boundary without LDAPS",
        rationale: "Binds and queries on LDAP 389 and GC 3268 travel in clear text unless the \
            client signs them; a host in another zone, or anyone on the path, can read or \
            relay them. Microsoft's ADV190023 asks for LDAP signing and channel binding, which \
            LDAP over TLS gives.",
        fix: "Set `ldaps = true` (636 and 3269 with a domain controller certificate) and \
            require LDAP signing and channel binding on the domain controllers.",
        sources: &[ADV190023],
    },
    Rule {
        id: "crl-ldap-ftp-from-perimeter",
        severity: Severity::Low,
        basis: Basis::Plan,
        title: "The RD Gateway fetches CRLs over LDAP or FTP across a zone boundary",
        rationale: "CRL retrieval over LDAP opens the directory (389) and over FTP a control \
            channel plus a data range to the gateway's zone, where HTTP needs one port that \
            carries nothing secret.",
        fix: "Publish the CRL distribution point over HTTP and set `crl = [\"http\"]`.",
        sources: &[SEED],
    },
    Rule {
        id: "netbios-enabled",
        severity: Severity::Low,
        basis: Basis::Plan,
        title: "Legacy NetBIOS to the license server is enabled",
        rationale: "The source document lists NetBIOS (137, 138, 139) to the license server as \
            legacy; supported Windows versions license over RPC and SMB 445 without it, and \
            NetBIOS name resolution can be spoofed on the local network.",
        fix: "Set `netbios = false` (the default).",
        sources: &[SEED, MS_SMB_SECURE],
    },
    Rule {
        id: "rdp-nla-not-required",
        severity: Severity::High,
        basis: Basis::Check,
        title: "An RDP listener does not require Network Level Authentication",
        rationale: "Without NLA the server starts a full session (and the logon screen) before \
            the user authenticates: unauthenticated attackers reach the RDP stack \
            (BlueKeep needed exactly this) and can exhaust sessions.",
        fix: "Require NLA: on the collection's properties (Security: 'Allow connections only \
            from computers running Remote Desktop with Network Level Authentication') or the \
            Group Policy setting named by CIS.",
        sources: &[CIS_NLA, CISA_BLUEKEEP],
    },
    Rule {
        id: "rdp-standard-security",
        severity: Severity::High,
        basis: Basis::Check,
        title: "An RDP listener uses the standard RDP security layer instead of TLS",
        rationale: "Standard RDP security encrypts with RC4 and authenticates the server with a \
            key anyone can spoof; a man in the middle reads the session.",
        fix: "Set the security layer to SSL (TLS) on the session hosts: collection properties \
            or the Group Policy setting named by CIS.",
        sources: &[CIS_SECURITY_LAYER],
    },
    Rule {
        id: "tls-legacy-only",
        severity: Severity::High,
        basis: Basis::Check,
        title: "A TLS service refused TLS 1.2 and 1.3",
        rationale: "check offers TLS 1.2 and 1.3 only; a protocol-version refusal means the \
            service speaks TLS 1.0 or 1.1 at best, versions with known weaknesses that current \
            clients disable. (A server that offers TLS 1.0 besides 1.2 is not seen here.)",
        fix: "Enable TLS 1.2 (and 1.3 where the OS has it) for Schannel on the host.",
        sources: &[NIST_800_52],
    },
    Rule {
        id: "tls-certificate-self-signed",
        severity: Severity::Medium,
        basis: Basis::Check,
        title: "RD Gateway or RD Web Access presents a self-signed certificate",
        rationale: "Clients cannot verify a self-signed certificate, so users learn to click \
            through warnings and a man in the middle goes unnoticed; RD Gateway connections \
            fail on clients that do not trust it.",
        fix: "Install a certificate from a public or enterprise CA whose name matches the \
            published gateway and web access name (Deployment Properties, Certificates).",
        sources: &[MS_RDG_CERT],
    },
    Rule {
        id: "tls-certificate-expired",
        severity: Severity::High,
        basis: Basis::Check,
        title: "A TLS certificate has expired or is not yet valid",
        rationale: "Clients refuse (RD Gateway) or warn about (RDP) a certificate outside its \
            validity period; users cannot connect, or learn to ignore warnings.",
        fix: "Renew the certificate and bind the new one to the role.",
        sources: &[MS_RDG_CERT],
    },
    Rule {
        id: "tls-certificate-name-mismatch",
        severity: Severity::High,
        basis: Basis::Check,
        title: "RD Gateway or RD Web Access presents a certificate that does not cover its public name",
        rationale: "Clients connect to the gateway and RD Web Access by the name they were given \
            (the deployment's `public_name`: the gateway's external FQDN, the RD Web Access \
            URL's host), not the server's own name; a certificate without that name in its \
            subject alternative names is refused with a name-mismatch error.",
        fix: "Install a certificate whose subject alternative names include the public name \
            (Deployment Properties, Certificates: RD Gateway and RD Web Access), or correct \
            `public_name` when clients use another name.",
        sources: &[MS_RDG_CERT],
    },
    Rule {
        id: "rds-web-wrong-service",
        severity: Severity::High,
        basis: Basis::Check,
        title: "The gateway's or RD Web Access's port is answered by something else",
        rationale: "A port that answers HTTPS is not a gateway: an RD Gateway answers its \
            transport request (RDG_OUT_DATA on /remoteDesktopGateway/) with an authentication \
            challenge, and RD Web Access redirects /RDWeb/ to its pages. A default page, a \
            404 or 405, or a connection dropped after the request means the role is not \
            installed there, the name and port lead to another site, or a reverse proxy or web \
            application firewall drops the gateway's methods: connections stop before the \
            gateway.",
        fix: "Install or start the role on the host, bind the gateway (or RD Web Access) to \
            the port the plan uses, or let the proxy pass the RDG_* methods and WebSocket \
            upgrades to /remoteDesktopGateway/ unchanged.",
        sources: &[MS_TSGU],
    },
    Rule {
        id: "tls-certificate-lookup-not-planned",
        severity: Severity::Medium,
        basis: Basis::Check,
        title: "A certificate names a revocation or issuer lookup that the plan does not allow",
        rationale: "The gateway's and RD Web Access's certificates name where clients (and the \
            gateway) fetch the CRL and the issuer's certificate: HTTP, LDAP or FTP URLs. If \
            the firewall does not allow those lookups, revocation checking fails and \
            connections are refused or stall (\"The revocation function was unable to check \
            revocation\").",
        fix: "Add the URL's method to the `crl` option (crl = [\"http\", \"ldap\", \"ftp\"]) \
            and the server of the URL as a host with the role \"crl\", so that the plan (and \
            its rules) allow the lookup from the clients and the gateway.",
        sources: &[RFC_5280_CDP, SEED],
    },
    Rule {
        id: "smb-signing-not-required",
        severity: Severity::Medium,
        basis: Basis::Check,
        title: "An SMB server does not require signing",
        rationale: "Without required signing, SMB sessions can be tampered with and NTLM \
            authentication relayed to the server.",
        fix: "Require SMB signing on the server (Group Policy 'Microsoft network server: \
            Digitally sign communications (always)', or `Set-SmbServerConfiguration \
            -RequireSecuritySignature $true`).",
        sources: &[CIS_SMB_SIGNING, MS_SMB_SIGNING],
    },
    Rule {
        id: "kerberos-clock-skew",
        severity: Severity::High,
        basis: Basis::Check,
        title: "The clock differs from the KDC's by more than 5 minutes",
        rationale: "Kerberos refuses tickets beyond the maximum clock tolerance (5 minutes by \
            default): logons through RD Gateway and to the session hosts fail or fall back to \
            NTLM.",
        fix: "Synchronise time with the domain hierarchy (W32Time; UDP 123 to the domain \
            controllers, flow D06) and check the PDC emulator's source.",
        sources: &[MS_CLOCK_SKEW],
    },
    Rule {
        id: "rules-any-to-any",
        severity: Severity::Critical,
        basis: Basis::Rules,
        title: "A firewall rule allows any source to any destination on every port",
        rationale: "An accept rule that matches every source, every destination and every TCP \
            port makes the rest of the rule set meaningless for what it covers: every service \
            of every host behind the firewall is open to everyone that reaches it.",
        fix: "Replace the rule with the planned flows (`rdsports rules`), or narrow it to the \
            sources, destinations and ports that need it.",
        sources: &[CISA_BLUEKEEP, MS_SMB_SECURE],
    },
    Rule {
        id: "rules-rdp-smb-from-anywhere",
        severity: Severity::Critical,
        basis: Basis::Rules,
        title: "A firewall rule allows RDP (3389) or SMB (445) from any address",
        rationale: "RDP and SMB open to every source address, the internet included, are the \
            entry points of BlueKeep-style worms, password spraying and ransomware (WannaCry).",
        fix: "Allow RDP only from the RD Gateway and SMB only between the hosts that need it; \
            publish RDP to the internet through RD Gateway (443).",
        sources: &[CISA_BLUEKEEP, NSA_RDP, MS_SMB_SECURE],
    },
    Rule {
        id: "rules-too-broad",
        severity: Severity::Medium,
        basis: Basis::Rules,
        title: "A firewall rule allows more than the plan needs",
        rationale: "Every (source, destination, protocol, port) a rule allows beyond the planned \
            flows is attack surface nobody asked for; `rdsports audit` measures it exactly.",
        fix: "Narrow the rule to the planned flows (`rdsports audit` lists what it allows beyond \
            them; `rdsports rules` writes the exact ones).",
        sources: &[KB_154596, MS_RDS_PORTS],
    },
];

/// The rule called `id`.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_every_rule_has_a_source() {
        let mut seen = std::collections::BTreeSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate id {}", r.id);
            assert!(
                r.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                r.id
            );
            assert!(!r.sources.is_empty(), "{} has no source", r.id);
            for s in r.sources {
                assert!(s.url.starts_with("https://"), "{}: {}", r.id, s.url);
            }
        }
    }

    #[test]
    fn severity_parses_its_names() {
        for s in Severity::DESCENDING {
            assert_eq!(s.name().parse::<Severity>(), Ok(s));
        }
        assert!("severe".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::High && Severity::Medium > Severity::Low);
    }
}
