@echo off
rem rdsports: Windows Firewall rules (netsh) for host gw02 of deployment contoso.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 2 flows, 2 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports contoso" >nul 2>&1
rem S12: RD Gateway main channel: HTTP (and RPC over HTTP) over TLS
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=8443 description="S12: RD Gateway main channel: HTTP (and RPC over HTTP) over TLS" remoteip=0.0.0.0-255.255.255.255 >nul || exit /b 1
rem S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=5985 description="S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration" remoteip=192.0.2.10 >nul || exit /b 1
exit /b 0
