@echo off
rem rdsports: Windows Firewall rules (netsh) for host cb02 of deployment contoso.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 12 flows, 4 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports contoso" >nul 2>&1
rem S06 S23 S26: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list; RDP to the broker (redirector) on behalf of the client; WMI from RD Web Access in a perimeter network, on a fixed WMI port (DCOM activation through the endpoint mapper)
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=135,3389,5504,24158 description="S06 S23 S26: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list; RDP to the broker (redirector) on behalf of the client; WMI from RD Web Access in a perimeter network, on a fixed WMI port (DCOM activation through the endpoint mapper)" remoteip=198.51.100.10 >nul || exit /b 1
rem S23: RDP to the broker (redirector) on behalf of the client
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=3389 description="S23: RDP to the broker (redirector) on behalf of the client" remoteip=198.51.100.11 >nul || exit /b 1
rem S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=5985 description="S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration" remoteip=192.0.2.10 >nul || exit /b 1
rem A01: session host to broker service (Tssdis): session directory and redirection decisions
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=135,49152-65535 description="A01: session host to broker service (Tssdis): session directory and redirection decisions" remoteip=192.0.2.21,192.0.2.22/31 >nul || exit /b 1
exit /b 0
