@echo off
rem rdsports: Windows Firewall rules (netsh) for host cb01 of deployment fabrikam.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 409 flows, 4 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports fabrikam" >nul 2>&1
rem S06 S26 A05: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list; WMI from RD Web Access in a perimeter network, on a fixed WMI port (DCOM activation through the endpoint mapper); centralized publishing to every broker of a high-availability deployment
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=135,5504,24158 description="S06 S26 A05: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list; WMI from RD Web Access in a perimeter network, on a fixed WMI port (DCOM activation through the endpoint mapper); centralized publishing to every broker of a high-availability deployment" remoteip=203.0.113.20/31 >nul || exit /b 1
rem S23: RDP to the broker (redirector) on behalf of the client
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=3389 description="S23: RDP to the broker (redirector) on behalf of the client" remoteip=203.0.113.10/31 >nul || exit /b 1
rem S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=5986 description="S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration" remoteip=192.0.2.80 >nul || exit /b 1
rem A01: session host to broker service (Tssdis): session directory and redirection decisions
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=135,50000-50999 description="A01: session host to broker service (Tssdis): session directory and redirection decisions" remoteip=198.51.100.1,198.51.100.2/31,198.51.100.4/30,198.51.100.8/29,198.51.100.16/28,198.51.100.32/27,198.51.100.64/26,198.51.100.128/26,198.51.100.192/29,198.51.100.200 >nul || exit /b 1
exit /b 0
