@echo off
rem rdsports: Windows Firewall rules (netsh) for host gw01 of deployment contoso.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 3 flows, 3 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports contoso" >nul 2>&1
rem S01 S12: RD Web Access portal and RemoteApp feed over HTTPS; RD Gateway main channel: HTTP (and RPC over HTTP) over TLS
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=443 description="S01 S12: RD Web Access portal and RemoteApp feed over HTTPS; RD Gateway main channel: HTTP (and RPC over HTTP) over TLS" remoteip=0.0.0.0-255.255.255.255 >nul || exit /b 1
rem S13: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ('Send Receive')
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=UDP localport=3391 description="S13: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ('Send Receive')" remoteip=0.0.0.0-255.255.255.255 >nul || exit /b 1
rem S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=5985 description="S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration" remoteip=192.0.2.10 >nul || exit /b 1
exit /b 0
